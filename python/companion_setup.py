"""Shared build logic of the companion wheels (ruvector-agent, ruvector-text,
and the test companion under tests/companion/).

A companion wheel carries plugin shared objects only, in <package>/plugins/,
and announces that directory in the entry-point group ``ruvector.plugins``
(the value is ``<package>:plugin_dir``). It never carries a second
libruvector: plugins reach the engine only through the host table they are
given at init (house style, principle 2), so one engine serves them all.

Plugins are built by the repository's Autotools build. A plugin whose make
target does not exist (configure found no jansson, libcurl or OpenSSL) is
skipped with a notice: the wheel is then a pure skeleton (py3-none-any) with
an empty plugin directory, and says so in its description;
scripts/python-test.sh fails when a companion it builds lacks its plugin.
The wheel built here links the system's libraries; scripts/python-test.sh
then runs `auditwheel repair` on it (which vendors jansson). When a plugin is present the
wheel is tagged py3-none-<platform>: the .so files do not depend on the
Python version, only on the platform.

Environment: RUVECTOR_SOURCE_DIR (default: the repository around this file)
and RUVECTOR_BUILD_DIR (an Autotools build directory to reuse; default: a
fresh one under build/).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 ships bdist_wheel itself
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover - older setuptools
    from wheel.bdist_wheel import bdist_wheel

REPO = Path(__file__).resolve().parent.parent


def _log(msg: str) -> None:
    print(f"ruvector-companion: {msg}", file=sys.stderr, flush=True)


def _run(cmd: List[str], cwd: Path, check: bool = True) -> "subprocess.CompletedProcess[str]":
    _log(f"$ (cd {cwd} && {shlex.join(cmd)})")
    return subprocess.run(cmd, cwd=cwd, check=check, text=True, capture_output=not check)


def c_version(src: Path) -> str:
    m = re.search(r"AC_INIT\(\[ruvector\],\s*\[([^\]]+)\]", (src / "configure.ac").read_text())
    if not m:
        raise SystemExit(f"no AC_INIT version in {src / 'configure.ac'}")
    return m.group(1)


def _source_dir() -> Path:
    return Path(os.environ.get("RUVECTOR_SOURCE_DIR") or REPO).resolve()


def _build_dir(src: Path, scratch: Path) -> Path:
    bdir = Path(os.environ.get("RUVECTOR_BUILD_DIR") or scratch / "autotools").resolve()
    bdir.mkdir(parents=True, exist_ok=True)
    if not (src / "configure").is_file():
        _run(["./bootstrap"], src)
    if not (bdir / "Makefile").is_file():
        _run([str(src / "configure"), "--disable-static", "CFLAGS=-O2"], bdir)
    return bdir


def _build_plugin(bdir: Path, target: str) -> Optional[Path]:
    """Builds one libtool module; None when make has no such target yet."""
    probe = _run(["make", "-n", target], bdir, check=False)
    if probe.returncode != 0:
        return None
    _run(["make", f"-j{os.cpu_count() or 2}", target], bdir)
    so = bdir / Path(target).parent / ".libs" / (Path(target).stem + ".so")
    return so if so.is_file() else None


def companion_setup(
    *,
    package: str,
    plugins: Dict[str, str],
    install_requires: Optional[List[str]] = None,
    skeleton_note: str = "",
    src_root: str = "src",
) -> None:
    """setup() for a companion. plugins maps a module name to its make target,
    e.g. {"a2a": "plugins/a2a/a2a.la"}."""
    here = Path(sys.argv[0]).resolve().parent
    src = _source_dir()
    version = c_version(src)
    scratch = here / "build"
    found: Dict[str, Path] = {}
    missing: List[str] = []
    if plugins:
        bdir = _build_dir(src, scratch)
        for name, target in plugins.items():
            so = _build_plugin(bdir, target)
            if so is None:
                missing.append(name)
            else:
                found[name] = so
    for name in missing:
        _log(f"plugin '{name}' has no make target yet ({plugins[name]}): not shipped")

    class BuildPy(build_py):
        def run(self) -> None:
            super().run()
            dest = Path(self.build_lib) / package / "plugins"
            dest.mkdir(parents=True, exist_ok=True)
            for name, so in found.items():
                shutil.copyfile(so, dest / f"{name}.so")
                if shutil.which("strip"):
                    subprocess.run(["strip", "--strip-unneeded", str(dest / f"{name}.so")], check=False)

    class CompanionDistribution(Distribution):
        # Shared objects make the wheel platform-specific (installed in
        # platlib, tagged with the platform), though no extension is built.
        def has_ext_modules(self) -> bool:
            return bool(found)

    class PlatformWheel(bdist_wheel):
        def get_tag(self) -> Any:
            tag = super().get_tag()
            return tag if not found else ("py3", "none", tag[2])

    description = "Plugins for ruvector: " + (", ".join(sorted(found)) or "none yet")
    if not found and skeleton_note:
        description = skeleton_note
    setup(
        version=version,
        description=description,
        install_requires=[f"ruvector=={version}", *(install_requires or [])],
        distclass=CompanionDistribution,
        cmdclass={"build_py": BuildPy, "bdist_wheel": PlatformWheel},
        package_dir={"": src_root},
        packages=[package],
        package_data={package: ["plugins/README.md", "py.typed"]},
        entry_points={"ruvector.plugins": [f"{package} = {package}:plugin_dir"]},
        zip_safe=False,
    )
