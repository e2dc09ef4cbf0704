"""Shared by the ruLake tests: whether the rulake plugin loads here.

A wheel or build without the plugin makes every lake test skip with the
loader's own reason, never pass."""
import pytest

import ruvector
from ruvector import RuLake


def rulake_missing() -> str:
    """'' when a lake opens; else why the rulake plugin did not load."""
    try:
        RuLake.builder().build().close()
    except ruvector.NotFoundError as exc:
        return f"rulake plugin not loadable: {exc}"
    return ""


WHY_NO_RULAKE = rulake_missing()
needs_rulake = pytest.mark.skipif(bool(WHY_NO_RULAKE), reason=WHY_NO_RULAKE)
