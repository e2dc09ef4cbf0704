"""The examples run (and, through scripts/python-test.sh, type-check)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_rag_like_retrieves_the_relevant_document(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["rag_like.py", "how", "do", "I", "save", "an", "index"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(EXAMPLES / "rag_like.py"), run_name="__main__")
    assert done.value.code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("question:")
    assert "save(path)" in out[1]  # the best hit is the document about saving
