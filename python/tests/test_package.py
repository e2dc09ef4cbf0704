"""The package itself: version, layout of the installed wheel, introspection."""

from __future__ import annotations

import builtins
import io
import os
import sys
from importlib import metadata
from pathlib import Path

import pytest

import ruvector
from ruvector import _ext


def test_version_is_the_c_library_version() -> None:
    assert ruvector.__version__ == _ext.version()
    assert ruvector.__version__ == metadata.version("ruvector")
    major, minor, patch = (int(p) for p in ruvector.__version__.split("."))
    assert _ext.VERSION_HEX == (major << 24) | (minor << 16) | (patch << 8)
    # The header the extension was compiled with matches the library it loaded.
    assert _ext.HEADER_VERSION_HEX == _ext.VERSION_HEX


def test_installed_layout_is_abi3_with_engine_and_kernel_plugins() -> None:
    pkg = Path(ruvector.__file__).parent
    ext = Path(_ext.__file__ or "")
    assert ext.name.endswith(".abi3.so"), ext.name
    assert (pkg / "libruvector.so.0").is_file()
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_ext.pyi").is_file()
    plugins = sorted(p.name for p in (pkg / "plugins").iterdir())
    # The kernels, and the one feature plugin of the core wheel (rulake, when
    # the build had jansson: tests/test_wheel_plugins.py says whether).
    kernels = [n for n in plugins if n != "rulake.so"]
    if os.uname().machine in ("x86_64", "AMD64"):
        assert kernels == ["avx2.so", "avx512.so"]
    # The wheel carries libruvector and the plugins, and only the libjansson
    # that auditwheel adds for rulake: OpenBLAS comes from scipy-openblas32,
    # hwloc and libcrypto from the system, all at run time, and libltdl is
    # linked into libruvector.
    everything = [p.name for p in pkg.parent.glob("ruvector*/**/*") if p.is_file()]
    for dep in ("openblas", "ltdl", "hwloc", "udev", "libcrypto", "libssl"):
        assert not [n for n in everything if dep in n.lower()], (dep, everything)
    libs = pkg.parent / "ruvector.libs"
    vendored = sorted(p.name for p in libs.iterdir()) if libs.is_dir() else []
    assert all(n.startswith("libjansson-") for n in vendored), vendored


def test_cpu_features_names_every_known_isa() -> None:
    feats = ruvector.cpu_features()
    assert isinstance(feats, dict) and feats
    assert all(isinstance(k, str) and isinstance(v, bool) for k, v in feats.items())
    if os.uname().machine == "x86_64":
        assert "AVX2" in feats and "AVX512F" in feats


def test_runtime_info_is_the_report_plus_python() -> None:
    info = ruvector.runtime_info()
    for key in ("cpu", "kernel", "plugins", "config", "blas", "python"):
        assert key in info, key
    assert info["kernel"]["name"] == ruvector.default_engine().kernel
    names = [p["name"] for p in info["plugins"]]
    assert "scalar" in names
    py = info["python"]
    assert py["package"] == ruvector.__version__
    dirs = py["plugin_dirs"]
    assert dirs[0]["source"] == "ruvector"
    assert Path(dirs[0]["path"]) == Path(ruvector.__file__).parent / "plugins"


def test_runtime_info_names_the_topology_source() -> None:
    cpu = ruvector.runtime_info()["cpu"]
    source = cpu["topology_source"]
    assert source == "sysconf" or source.startswith("hwloc 2."), source
    assert cpu["topology"]["cores"] >= 1 and cpu["topology"]["pus"] >= cpu["topology"]["cores"]
    # Where hwloc is installed (this repository's test machines), the engine
    # finds it at run time; the detail names the library file it opened.
    if source != "sysconf":
        assert "libhwloc" in cpu["topology_detail"], cpu["topology_detail"]
    buf = io.StringIO()
    ruvector.show_runtime(file=buf)
    assert f"(from {source})" in buf.getvalue()


def test_default_engine_uses_scipy_openblas_when_installed() -> None:
    try:
        metadata.version("scipy-openblas32")
    except metadata.PackageNotFoundError:
        pytest.skip("scipy-openblas32 is not installed here")
    hint = ruvector.runtime_info()["python"]["blas_hint"]
    assert hint is not None and Path(hint, "libscipy_openblas.so").is_file()
    assert "scipy_openblas" in ruvector.default_engine().blas, ruvector.default_engine().blas


def test_show_runtime_prints_kernel_reason_and_plugin_dirs() -> None:
    buf = io.StringIO()
    ruvector.show_runtime(file=buf)
    text = buf.getvalue()
    assert f"ruvector {ruvector.__version__}" in text
    assert "kernel:" in text and "plugin directories from installed packages" in text
    assert str(Path(ruvector.__file__).parent / "plugins") in text


def test_star_import_does_not_shadow_builtin_index_error() -> None:
    ns: dict[str, object] = {}
    exec("from ruvector import *", ns)
    assert "IndexError" not in ns
    assert issubclass(ruvector.IndexError, ruvector.RuVectorError)
    assert not issubclass(ruvector.IndexError, builtins.IndexError)


def test_extension_imports_no_numpy_c_api() -> None:
    # The abi3 extension must not pin NumPy's ABI: it links no NumPy symbol.
    data = Path(_ext.__file__ or "").read_bytes()
    assert b"PyArray_" not in data and b"_ARRAY_API" not in data


def test_python_version_supported() -> None:
    assert sys.version_info >= (3, 9)
