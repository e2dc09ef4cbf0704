"""The feature plugins as the wheels install them: rulake in the core wheel,
embed_onnx in ruvector-text, a2a in ruvector-agent.

Each probe runs in a child interpreter with RUVECTOR_PLUGIN_PATH and
RUVECTOR_ORT_LIB removed, so it sees what a user of a fresh venv sees (the
plugin directories the installed packages announce) and no process-wide
state (ONNX Runtime, once loaded, stays loaded) leaks between tests.

A plugin whose wheel is not installed, or was built without it, is skipped
with the reason, unless its name is in RUVECTOR_TEST_REQUIRE_PLUGINS
(scripts/python-test.sh names the ones its wheels must carry): then it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

import ruvector

REQUIRED = set(os.environ.get("RUVECTOR_TEST_REQUIRE_PLUGINS", "").replace(",", " ").split())

PROBE = r"""
import io, json, sys, ruvector
name = sys.argv[1]
eng = ruvector.Engine()
out = {}
try:
    eng.load_plugin(name)
except ruvector.RuVectorError as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
out["loaded"] = eng.feature_loaded(name)
out["record"] = [p for p in eng.report()["plugins"] if p["name"] == name]
out["features"] = eng.report()["features"].get(name, {})
buf = io.StringIO()
ruvector.show_runtime(eng, file=buf)
out["shown"] = buf.getvalue()
# The same through the default engine, as show_runtime() with no argument uses.
if "error" not in out:
    ruvector.default_engine().load_plugin(name)
    buf = io.StringIO()
    ruvector.show_runtime(file=buf)
    out["shown_default"] = buf.getvalue()
print(json.dumps(out))
"""


def plugin_dir_of(source: str) -> Optional[Dict[str, Any]]:
    """The installed_plugin_dirs() entry announced by the distribution `source`."""
    for d in ruvector.installed_plugin_dirs():
        if d.source == source:
            return d._asdict()
    return None


def need(name: str, source: str) -> str:
    """The plugin directory of `source` that carries `name`; skips (or fails,
    when required) if there is none."""
    d = plugin_dir_of(source)
    if d is None:
        why = f"the {source} wheel is not installed"
    elif d["error"]:
        why = f"the {source} wheel's plugin directory is unusable: {d['error']}"
    elif name not in d["plugins"]:
        why = f"the installed {source} wheel was built without the {name} plugin ({d['path']})"
    else:
        return str(d["path"])
    if name in REQUIRED:
        pytest.fail(f"{why}, and RUVECTOR_TEST_REQUIRE_PLUGINS names {name}")
    pytest.skip(why)


def run_child(script: str, *args: str) -> Any:
    """Runs script in a child interpreter as a fresh venv's user would (no
    plugin path or ONNX Runtime from the environment); its JSON output."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RUVECTOR_PLUGIN_PATH", "RUVECTOR_ORT_LIB")}
    proc = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def probe(name: str) -> Dict[str, Any]:
    result: Dict[str, Any] = run_child(PROBE, name)
    return result


def assert_loaded_from(out: Dict[str, Any], name: str, plugdir: str) -> None:
    assert "error" not in out, out.get("error")
    assert out["loaded"] is True
    (rec,) = out["record"]
    assert rec["state"] == "loaded"
    assert Path(rec["file"]).resolve().parent == Path(plugdir).resolve(), rec


def test_core_wheel_carries_no_companion_plugin() -> None:
    d = plugin_dir_of("ruvector")
    assert d is not None and not d["error"]
    assert not {"a2a", "embed_onnx"} & set(d["plugins"]), d["plugins"]


def test_core_wheel_loads_rulake_and_reports_libcrypto() -> None:
    plugdir = need("rulake", "ruvector")
    out = probe("rulake")
    assert_loaded_from(out, "rulake", plugdir)
    feat = out["features"]
    # libcrypto is opened at run time, never vendored: the report names the
    # system file that was found and its version.
    lib = feat["libcrypto"]
    assert os.path.basename(lib).startswith("libcrypto.so"), feat
    assert os.path.isfile(lib), feat
    assert "ruvector" not in lib, f"libcrypto came from the wheel: {lib}"
    assert feat["libcrypto_version"].startswith("OpenSSL "), feat
    assert feat["jansson"], feat
    for shown in (out["shown"], out["shown_default"]):
        assert "feature rulake:" in shown
        assert lib in shown and feat["libcrypto_version"] in shown


def test_text_wheel_loads_embed_onnx_with_the_onnxruntime_wheel() -> None:
    plugdir = need("embed_onnx", "ruvector-text")
    from ruvector._plugins import ort_hint

    wheel_lib = ort_hint()
    if wheel_lib is None:
        why = "the onnxruntime wheel (a dependency of ruvector-text) is not installed"
        if "embed_onnx" in REQUIRED:
            pytest.fail(why)
        pytest.skip(why)
    out = probe("embed_onnx")
    assert_loaded_from(out, "embed_onnx", plugdir)
    feat = out["features"]
    assert feat["ort_found_by"] == "wheel", feat
    assert Path(feat["ort_path"]).resolve() == Path(wheel_lib).resolve(), feat
    assert Path(feat["ort_path"]).parent.name == "capi", feat
    major, minor = (int(x) for x in feat["ort_version"].split(".")[:2])
    assert (major, minor) >= (1, 21), feat
    assert "feature embed_onnx:" in out["shown"] and "feature embed_onnx:" in out["shown_default"]


def test_agent_wheel_loads_a2a_with_the_system_curl_and_openssl() -> None:
    plugdir = need("a2a", "ruvector-agent")
    out = probe("a2a")
    assert_loaded_from(out, "a2a", plugdir)
    feat = out["features"]
    assert feat["curl"] and feat["openssl"].startswith("OpenSSL "), feat
    assert "feature a2a:" in out["shown"] and "feature a2a:" in out["shown_default"]


ALL_THREE = r"""
import json, ruvector
eng = ruvector.Engine(plugins=["rulake", "embed_onnx", "a2a"])
print(json.dumps({n: eng.feature_loaded(n) for n in ("rulake", "embed_onnx", "a2a")}))
"""


def test_hint_names_the_extra_or_the_system_libraries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ruvector import _plugins

    def dirs(with_a2a: bool) -> Any:
        mods = ("a2a",) if with_a2a else ()
        return lambda: [_plugins.PluginDir(str(tmp_path), "ruvector-agent", mods)]

    monkeypatch.setattr(_plugins, "installed_plugin_dirs", dirs(False))
    assert "pip install 'ruvector[agent]'" in _plugins.extra_hint("a2a")
    # Installed but not loadable: libcurl or libcrypto is missing, and
    # reinstalling the extra would not help.
    monkeypatch.setattr(_plugins, "installed_plugin_dirs", dirs(True))
    hint = _plugins.extra_hint("a2a")
    assert "pip install" not in hint and "libcurl.so.4" in hint and "libcrypto.so.3" in hint
    assert _plugins.extra_hint("rulake") == ""


def test_the_three_plugins_share_one_engine() -> None:
    # The core and both companions each carry a libjansson under the same
    # hashed soname; the loader maps it once and all three plugins use it.
    need("rulake", "ruvector")
    need("embed_onnx", "ruvector-text")
    need("a2a", "ruvector-agent")
    assert run_child(ALL_THREE) == {"rulake": True, "embed_onnx": True, "a2a": True}
