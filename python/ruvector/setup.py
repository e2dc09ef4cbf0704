"""Build of the `ruvector` wheel: the Autotools build of libruvector, then the
abi3 extension linked against it.

What goes into the wheel (ruvector/ in site-packages):
    _ext.abi3.so        the extension (limited API 3.9), RUNPATH $ORIGIN
    libruvector.so.0    the engine, found by the extension through $ORIGIN
    plugins/<name>.so   the kernel plugins this architecture builds, and
                        the feature plugins of CORE_FEATURE_PLUGINS (rulake)
libltdl is linked into libruvector (configure --with-included-ltdl), hwloc
is opened at run time when the system has it, OpenBLAS comes from the
scipy-openblas32 wheel at run time, and rulake opens libcrypto at run time
(plugins/rulake/crypto.c). The one library `auditwheel repair` adds is
libjansson.so.4, which rulake links (see CORE_FEATURE_PLUGINS for why).

Where the C sources come from, first match wins:
    RUVECTOR_SOURCE_DIR     a checkout of the repository
    ../..                   this file's repository (building from the tree)
    csrc/ruvector-*.tar.gz  the `make dist` tarball an sdist carries
Environment knobs:
    RUVECTOR_BUILD_DIR      reuse (or create) this Autotools build directory
                            instead of a fresh one under build/ (incremental)
    RUVECTOR_CONFIGURE_ARGS extra ./configure arguments
    RUVECTOR_WERROR=1       compile the extension with -Werror (CI)
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
LIMITED_API_TAG = "cp39"


def log(msg: str) -> None:
    print(f"ruvector-build: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path) -> None:
    log(f"$ (cd {cwd} && {shlex.join(cmd)})")
    subprocess.run(cmd, cwd=cwd, check=True)


def source_dir(scratch: Path) -> Path:
    env = os.environ.get("RUVECTOR_SOURCE_DIR")
    if env:
        return Path(env).resolve()
    tree = HERE.parent.parent
    if (tree / "configure.ac").is_file() and (tree / "engine").is_dir():
        return tree
    tarballs = sorted(glob.glob(str(HERE / "csrc" / "ruvector-*.tar.gz")))
    if tarballs:
        dest = scratch / "csrc"
        if not dest.is_dir():
            dest.mkdir(parents=True)
            with tarfile.open(tarballs[-1]) as tar:
                if hasattr(tarfile, "data_filter"):  # 3.12+: refuse links out of dest
                    tar.extractall(dest, filter="data")
                else:
                    tar.extractall(dest)
        (top,) = [p for p in dest.iterdir() if p.is_dir()]
        return top
    raise SystemExit(
        "ruvector: C sources not found; set RUVECTOR_SOURCE_DIR to a checkout of the repository"
    )


def c_version(src: Path) -> str:
    """The version in AC_INIT, so the wheel and ruv_version_string() agree."""
    text = (src / "configure.ac").read_text()
    m = re.search(r"AC_INIT\(\[ruvector\],\s*\[([^\]]+)\]", text)
    if not m:
        raise SystemExit(f"ruvector: no AC_INIT version in {src / 'configure.ac'}")
    return m.group(1)


def make_var(bdir: Path, name: str) -> list[str]:
    """Value of a variable in the generated Makefile (conditionals resolved)."""
    # Regenerate the Makefile first if configure.ac or a Makefile.am changed,
    # with its output visible, so the query below reads a settled file.
    run(["make", "Makefile"], bdir)
    helper = bdir / ".ruvector-print.mk"
    helper.write_text("print-%:\n\t@echo $($*)\n")
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", helper.name, f"print-{name}"],
        cwd=bdir, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"ruvector: cannot read {name} from {bdir}/Makefile:\n{proc.stderr}")
    return proc.stdout.split()


# Always passed to configure: the wheel's libruvector must need no libltdl.so.
WHEEL_CONFIGURE_ARGS = ["--disable-static", "--enable-shared", "--with-included-ltdl"]


def make_assignment(bdir: Path, name: str) -> str | None:
    """The value `name = ...` has in bdir's generated Makefile, if any."""
    makefile = bdir / "Makefile"
    if not makefile.is_file():
        return None
    m = re.search(rf"^{name} = (.*)$", makefile.read_text(), re.MULTILINE)
    return m.group(1).strip() if m else None


def configured_for(bdir: Path, src: Path) -> bool:
    """Whether bdir holds a configured build of the sources in src."""
    top = make_assignment(bdir, "abs_top_srcdir")
    return top is not None and Path(top).resolve() == src.resolve()


def configured_for_wheel(bdir: Path) -> bool:
    """Whether bdir was configured with WHEEL_CONFIGURE_ARGS (a build
    directory reused through RUVECTOR_BUILD_DIR may predate one)."""
    return make_assignment(bdir, "RUV_INCLUDED_LTDL") == "yes"


def autotools_configure(src: Path, scratch: Path) -> Path:
    """A configured Autotools build directory for src (configured once)."""
    bdir = scratch / "autotools"
    env_dir = os.environ.get("RUVECTOR_BUILD_DIR")
    if env_dir:
        cand = Path(env_dir).resolve()
        if not (cand / "Makefile").is_file() or configured_for(cand, src):
            bdir = cand
        else:  # e.g. building from an sdist's tarball: never mix two source trees
            log(f"RUVECTOR_BUILD_DIR={cand} was configured for another source tree; using {bdir}")
    bdir = bdir.resolve()
    bdir.mkdir(parents=True, exist_ok=True)
    if not (src / "configure").is_file():
        run(["./bootstrap"], src)
    if not (configured_for(bdir, src) and configured_for_wheel(bdir)):
        args = [str(src / "configure"), *WHEEL_CONFIGURE_ARGS]
        args += shlex.split(os.environ.get("RUVECTOR_CONFIGURE_ARGS", ""))
        if not os.environ.get("CFLAGS"):
            args.append("CFLAGS=-O2")  # no -g: debug info triples the wheel
        run(args, bdir)
    return bdir


# Feature plugins the core wheel carries (the others ship in the companion
# wheels ruvector-agent and ruvector-text). rulake links jansson: Debian's
# libjansson.a is not built with -fPIC, so it cannot go into a plugin; rather
# than fetch and build jansson's sources (apt source needs deb-src entries
# the machines do not have, and PyPI carries no jansson sources), the
# plugin links Debian's libjansson.so.4 and `auditwheel repair` (a step
# every manylinux wheel takes anyway) copies it into ruvector.libs/ under a
# hashed soname, with rulake.so's RUNPATH pointed there. That is 66 KB,
# the library stays the distribution's maintained build, and its own
# soname keeps the loader from taking it for another jansson in the process.
# A plugin configure could not build (no jansson) is left out with a notice;
# scripts/python-test.sh fails when the CI wheel lacks it.
CORE_FEATURE_PLUGINS = ("rulake",)


def wheel_plugins(bdir: Path) -> list[str]:
    """The plugin_LTLIBRARIES entries (e.g. plugins/rulake/rulake.la) the core
    wheel carries: every kernel plugin and the CORE_FEATURE_PLUGINS built here."""
    all_plugins = make_var(bdir, "plugin_LTLIBRARIES")
    chosen = [la for la in all_plugins
              if la.startswith("plugins/kernel-") or Path(la).stem in CORE_FEATURE_PLUGINS]
    for name in CORE_FEATURE_PLUGINS:
        if not any(Path(la).stem == name for la in chosen):
            log(f"feature plugin '{name}' is not in this build (configure found no jansson?): "
                "the wheel is built without it")
    return chosen


def autotools_build(src: Path, scratch: Path) -> Path:
    """Builds libruvector and the wheel's plugins; returns the build directory."""
    bdir = autotools_configure(src, scratch)
    plugins = wheel_plugins(bdir)
    jobs = str(os.cpu_count() or 2)
    run(["make", f"-j{jobs}", "engine/libruvector.la", *plugins], bdir)
    return bdir


def strip(path: Path) -> None:
    tool = shutil.which("strip")
    if tool:
        subprocess.run([tool, "--strip-unneeded", str(path)], check=False)


class BuildExt(build_ext):
    """Runs the Autotools build, links the extension against its libruvector
    and places the engine and the wheel's plugins next to the extension."""

    def run(self) -> None:
        scratch = Path(self.build_temp).resolve()
        src = source_dir(scratch)
        bdir = autotools_build(src, scratch)
        for ext in self.extensions:
            ext.include_dirs += [str(src / "include"), str(bdir / "include")]
            ext.library_dirs.append(str(bdir / "engine" / ".libs"))
        super().run()
        ext_path = Path(self.get_ext_fullpath("ruvector._ext"))
        strip(ext_path)  # Python's CFLAGS carry -g
        pkg = ext_path.parent
        self._install_c_parts(bdir, pkg)

    def _install_c_parts(self, bdir: Path, pkg: Path) -> None:
        libs = bdir / "engine" / ".libs"
        real = sorted(libs.glob("libruvector.so.*.*"))  # the file libruvector.so.0 points at
        if not real:
            raise SystemExit(f"ruvector: no libruvector.so.* in {libs}")
        dest = pkg / "libruvector.so.0"
        shutil.copyfile(real[-1], dest)
        strip(dest)
        plugdir = pkg / "plugins"
        if plugdir.is_dir():
            shutil.rmtree(plugdir)
        plugdir.mkdir(parents=True)
        for la in wheel_plugins(bdir):
            so = bdir / Path(la).parent / ".libs" / (Path(la).stem + ".so")
            shutil.copyfile(so, plugdir / so.name)
            strip(plugdir / so.name)
        log(f"placed {dest.name} and plugins {sorted(p.name for p in plugdir.iterdir())} in {pkg}")


class SdistWithCSources(sdist):
    """Puts the `make dist` tarball of the C library into the sdist (csrc/),
    so a wheel can be built from the sdist alone."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        scratch = HERE / "build" / "sdist"
        src = source_dir(scratch)
        bdir = autotools_configure(src, scratch)
        run(["make", "dist-gzip"], bdir)
        tarball = bdir / f"ruvector-{c_version(src)}.tar.gz"
        dest = Path(base_dir) / "csrc"
        dest.mkdir(exist_ok=True)
        shutil.copyfile(tarball, dest / tarball.name)


def main() -> None:
    src_for_version = source_dir(HERE / "build" / "version")
    version = c_version(src_for_version)
    cflags = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes"]
    if os.environ.get("RUVECTOR_WERROR") == "1":
        cflags.append("-Werror")
    ext = Extension(
        "ruvector._ext",
        # One file per job; _ext.h lists them. Sorted: the same object order
        # (and so the same .so) on every build.
        sources=sorted(str(p.relative_to(HERE)) for p in (HERE / "src/ruvector").glob("_ext*.c")),
        depends=["src/ruvector/_ext.h"],
        libraries=["ruvector"],
        extra_compile_args=cflags,
        # $ORIGIN: libruvector.so.0 sits next to the extension in the wheel.
        extra_link_args=["-Wl,-rpath,$ORIGIN", "-pthread"],
        py_limited_api=True,
    )
    setup(
        version=version,
        ext_modules=[ext],
        cmdclass={"build_ext": BuildExt, "sdist": SdistWithCSources},
        extras_require={
            "agent": [f"ruvector-agent=={version}"],
            "text": [f"ruvector-text=={version}"],
        },
        options={"bdist_wheel": {"py_limited_api": LIMITED_API_TAG}},
    )


if __name__ == "__main__":
    main()
