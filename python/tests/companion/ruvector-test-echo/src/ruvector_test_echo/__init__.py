"""Test companion: carries the feature_echo fixture plugin (tests only)."""

from pathlib import Path

__all__ = ["plugin_dir"]


def plugin_dir() -> str:
    """The directory holding feature_echo.so."""
    return str(Path(__file__).resolve().parent / "plugins")
