"""Extras as a real mechanism: a companion wheel's plugins are found after
`pip install` alone, and are gone after `pip uninstall`.

Uses the test companion ruvector-test-echo (tests/companion/), which carries
the fixture plugin feature_echo and is built exactly like ruvector-agent and
ruvector-text. scripts/python-test.sh builds it and names the wheel in
RUVECTOR_TEST_COMPANION_WHEEL. The test installs into the running
environment and uninstalls again at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from typing import Any, Dict, Iterator

import pytest

WHEEL = os.environ.get("RUVECTOR_TEST_COMPANION_WHEEL", "")
DIST = "ruvector-test-echo"

PROBE = r"""
import io, json, ruvector
buf = io.StringIO()
ruvector.show_runtime(file=buf)
out = {"shown": buf.getvalue(),
       "dirs": ruvector.runtime_info()["python"]["plugin_dirs"]}
try:
    eng = ruvector.Engine(plugins=["feature_echo"])
    rec = [p for p in eng.report()["plugins"] if p["name"] == "feature_echo"][0]
    out["engine"] = {"loaded": eng.feature_loaded("feature_echo"), "record": rec}
except ruvector.RuVectorError as exc:
    out["engine"] = {"error": type(exc).__name__, "message": str(exc)}
late = ruvector.Engine()  # no plugins named at open
try:
    late.load_plugin("feature_echo")
    out["late"] = {"loaded": late.feature_loaded("feature_echo"),
                   "features": late.report()["features"]}
except ruvector.RuVectorError as exc:
    out["late"] = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(out))
"""


def probe() -> Dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True)
    result: Dict[str, Any] = json.loads(out.stdout)
    return result


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                   check=True)


def installed() -> bool:
    try:
        metadata.version(DIST)
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture()
def clean_env() -> Iterator[None]:
    if not WHEEL:
        pytest.skip("RUVECTOR_TEST_COMPANION_WHEEL is not set (scripts/python-test.sh sets it)")
    if installed():
        pip("uninstall", "-y", DIST)
    yield
    if installed():
        pip("uninstall", "-y", DIST)


def test_companion_install_and_uninstall_change_what_the_engine_sees(clean_env: None) -> None:
    before = probe()
    assert "feature_echo" not in before["shown"]
    assert before["engine"]["error"] == "NotFoundError"
    assert before["late"]["error"] == "NotFoundError", before["late"]

    pip("install", "--no-deps", "--no-index", WHEEL)
    during = probe()
    assert "feature_echo" in during["shown"], during["shown"]
    assert DIST in during["shown"]
    companion = [d for d in during["dirs"] if d["source"] == DIST]
    assert len(companion) == 1 and companion[0]["plugins"] == ["feature_echo"]
    assert not companion[0]["error"]
    eng = during["engine"]
    assert eng.get("loaded") is True, eng
    assert eng["record"]["state"] == "loaded" and eng["record"]["kind"] == "feature"
    assert eng["record"]["version"] == "1.2.3"  # the fixture's descriptor
    assert eng["record"]["file"].startswith(companion[0]["path"])
    # late loading into an engine opened without it
    assert during["late"].get("loaded") is True, during["late"]
    assert "feature_echo" in during["late"]["features"]

    pip("uninstall", "-y", DIST)
    after = probe()
    assert "feature_echo" not in after["shown"]
    assert after["engine"]["error"] == "NotFoundError"
    assert [d["source"] for d in after["dirs"]] == [d["source"] for d in before["dirs"]]


def test_broken_companion_does_not_break_the_core(clean_env: None, tmp_path: Any) -> None:
    # An entry point whose module cannot be imported is listed with its error.
    dist = tmp_path / "broken_companion-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-companion\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ruvector.plugins]\nbroken = no_such_module:plugin_dir\n")
    code = ("import json, ruvector; print(json.dumps(ruvector.runtime_info()['python']['plugin_dirs']));"
            "ruvector.RabitqPlusIndex.build([[1.0, 2.0], [3.0, 4.0]])")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    dirs = json.loads(out.stdout)
    broken = [d for d in dirs if d["source"] == "broken-companion"]
    assert broken and "no_such_module" in broken[0]["error"]
