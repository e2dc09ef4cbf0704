"""Companion of `ruvector[text]`: carries the 'embed_onnx' plugin for libruvector.

plugins/embed_onnx.so opens the onnxruntime wheel's library at run time
(ruvector passes its path as the plugin's `ort_lib_wheel` option). ruvector
finds this directory through the `ruvector.plugins` entry point.
"""

from pathlib import Path

__all__ = ["plugin_dir"]


def plugin_dir() -> str:
    """The directory holding this wheel's plugin shared objects."""
    return str(Path(__file__).resolve().parent / "plugins")
