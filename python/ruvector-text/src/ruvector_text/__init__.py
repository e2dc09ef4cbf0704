"""Companion of `ruvector[text]`: carries the 'embed_onnx' plugin for libruvector.

SKELETON: the 'embed_onnx' plugin is not built yet, so plugins/ is empty and
`ruvector.Engine(plugins=["embed_onnx"])` still fails with a message naming this
extra. ruvector finds this directory through the `ruvector.plugins` entry point.
"""

from pathlib import Path

__all__ = ["plugin_dir"]


def plugin_dir() -> str:
    """The directory holding this wheel's plugin shared objects."""
    return str(Path(__file__).resolve().parent / "plugins")
