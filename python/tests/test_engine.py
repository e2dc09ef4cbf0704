"""Engine choice, precedence, plugin errors, and the status -> exception map."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import numpy as np
import pytest

import ruvector
from ruvector import _ext
from conftest import F32

KERNELS = ["scalar", "avx2", "avx512", "neon"]


def available_kernels() -> List[str]:
    usable = []
    for k in KERNELS:
        try:
            ruvector.Engine(kernel=k)
        except (ruvector.UnsupportedError, ruvector.NotFoundError):
            continue
        usable.append(k)
    return usable


def test_explicit_kernel_choice_is_reported() -> None:
    eng = ruvector.Engine(kernel="scalar", threads=1)
    assert eng.kernel == "scalar" and eng.kernel_source == "api" and eng.threads == 1
    rep = eng.report()
    assert rep["kernel"]["name"] == "scalar"
    assert rep["config"]["threads"]["source"] == "api"
    assert "Engine(kernel='scalar'" in repr(eng)


def test_every_kernel_gives_the_same_results(small: F32, small_queries: F32) -> None:
    kernels = available_kernels()
    assert "scalar" in kernels
    results = {}
    for k in kernels:
        eng = ruvector.Engine(kernel=k)
        idx = ruvector.RabitqPlusIndex.build(small, nlist=16, engine=eng)
        assert idx.engine is eng and f"kernel='{k}'" in repr(idx)
        results[k] = idx.search_batch(small_queries, 10, nprobe=4)
    ref_ids, ref_scores = results["scalar"]
    for k, (ids, scores) in results.items():
        np.testing.assert_array_equal(ids, ref_ids, err_msg=k)
        np.testing.assert_allclose(scores, ref_scores, rtol=1e-4, atol=1e-3, err_msg=k)


def test_unknown_and_unsupported_kernels_raise_clear_errors() -> None:
    with pytest.raises(ruvector.NotFoundError, match="scalar"):  # known names listed
        ruvector.Engine(kernel="sse9")
    if os.uname().machine != "x86_64":
        return
    features = ruvector.cpu_features()
    for kernel, isa in (("avx512", "AVX512F"), ("avx2", "AVX2")):
        if not features[isa]:  # forcing it must be an error, never SIGILL
            with pytest.raises(ruvector.UnsupportedError, match=isa):
                ruvector.Engine(kernel=kernel)


def test_missing_feature_plugin_names_the_extra() -> None:
    with pytest.raises(ruvector.RuVectorError, match=r"ruvector\[agent\]"):
        ruvector.Engine(plugins=["a2a"])
    with pytest.raises(ruvector.RuVectorError, match=r"ruvector\[text\]"):
        ruvector.Engine(plugins=["embed_onnx"])
    with pytest.raises(ruvector.NotFoundError) as info:
        ruvector.Engine(plugins=["no_such_feature"])
    assert "ruvector[" not in str(info.value)


def test_engine_disable_and_explicit_plugin_path(tmp_path: Path) -> None:
    eng = ruvector.Engine(disable=["avx2", "avx512"])
    assert eng.kernel == "scalar"
    empty = ruvector.Engine(plugin_path=[tmp_path])
    assert empty.kernel == "scalar"
    assert empty.report()["config"]["plugin_path"]["value"] == str(tmp_path)


def _child(code: str, **env: str) -> str:
    full = dict(os.environ)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, check=True, capture_output=True, text=True
    ).stdout


def test_environment_plugin_path_beats_the_installed_default(tmp_path: Path) -> None:
    code = "import json, ruvector; print(json.dumps(ruvector.runtime_info()['config']['plugin_path']))"
    default = json.loads(_child(code))
    assert default["source"] == "api"  # the Python layer passed the installed dirs
    assert str(Path(ruvector.__file__).parent / "plugins") in default["value"]
    env = json.loads(_child(code, RUVECTOR_PLUGIN_PATH=str(tmp_path)))
    assert (env["value"], env["source"], env["env"]) == (str(tmp_path), "env",
                                                         "RUVECTOR_PLUGIN_PATH")
    # ...and the API beats the environment.
    api = _child(
        "import ruvector; e = ruvector.Engine(plugin_path='/nonexistent');"
        "print(e.report()['config']['plugin_path']['source'])",
        RUVECTOR_PLUGIN_PATH=str(tmp_path),
    )
    assert api.strip() == "api"


def test_environment_kernel_is_read() -> None:
    out = _child("import ruvector; e = ruvector.default_engine(); print(e.kernel, e.kernel_source)",
                 RUVECTOR_KERNEL="scalar")
    assert out.split() == ["scalar", "env"]


def test_every_status_maps_to_one_class_with_the_detail() -> None:
    seen = set()
    for status, cls in ruvector.STATUS_CLASSES.items():
        with pytest.raises(cls) as info:
            _ext._raise_status(status, f"detail for {status}")
        err = info.value
        assert type(err) is cls
        assert str(err) == f"detail for {status}"
        assert err.status == status
        assert err.status_name == _ext.status_name(status)
        assert isinstance(err, ruvector.RuVectorError)
        seen.add(cls)
    assert len(seen) == len(ruvector.STATUS_CLASSES)
    with pytest.raises(ruvector.RuVectorError) as unknown:
        _ext._raise_status(-999, "new code")
    assert type(unknown.value) is ruvector.RuVectorError


def test_every_c_status_has_a_class() -> None:
    """A status the C library names (down to the first unknown code) must
    map to a class of its own, so a new code cannot ship without one."""
    status = -1
    while _ext.status_name(status) != "RUV_E_UNKNOWN":
        assert status in ruvector.STATUS_CLASSES, _ext.status_name(status)
        status -= 1
    assert status <= -22  # the feature plugins' codes (-13 .. -21) are there
    assert issubclass(ruvector.DeadlineExceeded, TimeoutError)
    assert issubclass(ruvector.BackendError, ruvector.LakeError)
    assert issubclass(ruvector.CacheMissError, ruvector.LakeError)


def test_hierarchy() -> None:
    assert issubclass(ruvector.AbiError, ruvector.PluginError)
    assert issubclass(ruvector.PluginError, ruvector.RuVectorError)
    assert issubclass(ruvector.UnsupportedError, ruvector.RuVectorError)
    for cls in (ruvector.DimensionMismatch, ruvector.EmptyIndex, ruvector.PersistError):
        assert issubclass(cls, ruvector.IndexError)
    assert issubclass(ruvector.IoError, OSError) and issubclass(ruvector.CorruptFile, ruvector.PersistError)
    assert ruvector.Error is ruvector.RuVectorError


def test_load_plugin_refuses_kernels_and_unknown_names() -> None:
    eng = ruvector.Engine()
    with pytest.raises(ruvector.InvalidArgument, match="kernel"):
        eng.load_plugin("avx2")
    with pytest.raises(ruvector.NotFoundError, match="no_such_plugin"):
        eng.load_plugin("no_such_plugin")
    with pytest.raises(ruvector.InvalidArgument, match="module name"):
        eng.load_plugin("Bad Name")


def test_report_has_pool_features_and_every_setting() -> None:
    info = ruvector.runtime_info()
    assert info["pool"]["default_workers"] >= 1
    assert isinstance(info["features"], dict)
    assert {"kernel", "plugin_path", "disable", "threads", "verbose", "blas_path",
            "kernel_measure", "cache_dir", "ort_lib"} <= set(info["config"])
    assert info["config"]["ort_lib"]["env"] == "RUVECTOR_ORT_LIB"
    assert info["config"]["kernel_measure"]["env"] == "RUVECTOR_KERNEL_MEASURE"
    # every slot of the kernel table names who supplied it and how
    slots = info["kernel"]["slots"]
    assert [s["slot"] for s in slots][:3] == ["dot_f32", "l2sq_f32", "cos_f32"]
    assert len(slots) == 16
    assert all(s["how"] in ("priority", "forced", "faster", "kept") for s in slots)
    loaded = {p["name"] for p in info["plugins"] if p["state"] == "loaded"}
    assert {s["kernel"] for s in slots} <= loaded
    buf = io.StringIO()
    ruvector.show_runtime(file=buf)
    out = buf.getvalue()
    assert "thread pool:" in out and "ort_lib" in out
    assert f"slots:    {info['kernel']['selection']}" in out


def test_show_runtime_lists_raced_slots() -> None:
    from ruvector._engine import _slot_lines

    kernel = {"slots": [
        {"slot": "dot_f32", "kernel": "avx512", "how": "kept", "ns": {"avx512": 90.0, "avx2": 99.0}},
        {"slot": "fastscan_u8", "kernel": "avx2", "how": "faster",
         "ns": {"avx512": 1200.4, "avx2": 1000.0}},
        {"slot": "fht_f32", "kernel": "avx512", "how": "priority", "ns": {}},
    ]}
    lines = _slot_lines(kernel)
    assert lines[1].split() == ["fastscan_u8", "avx2", "faster", "avx512", "1200", "ns,",
                                "avx2", "1000", "ns"]
    assert lines[2].split() == ["fht_f32", "avx512", "priority"]
    assert _slot_lines({"slots": [kernel["slots"][2]]}) == []
