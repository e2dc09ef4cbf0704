"""Companion of `ruvector[agent]`: carries the 'a2a' plugin for libruvector.

plugins/a2a.so links the system's libcurl and libcrypto (OpenSSL 3); the
jansson it links is in ruvector_agent.libs/. ruvector finds this directory
through the `ruvector.plugins` entry point.
"""

from pathlib import Path

__all__ = ["plugin_dir"]


def plugin_dir() -> str:
    """The directory holding this wheel's plugin shared objects."""
    return str(Path(__file__).resolve().parent / "plugins")
