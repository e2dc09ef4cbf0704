"""Where plugins and the BLAS are found when the caller does not say.

Plugin directories. The core wheel carries the kernel plugins in
``ruvector/plugins``. Companion wheels (``ruvector[agent]``, ``ruvector[text]``,
or a third party's) carry more plugin shared objects and announce their
directory through the entry-point group ``ruvector.plugins``: the entry
point's object is either a path (str or os.PathLike) or a callable that
returns one. So ``pip install`` alone makes a plugin discoverable, and
``pip uninstall`` makes it disappear; nothing is registered anywhere else.

BLAS. The ``scipy-openblas32`` wheel (a dependency) holds
``libscipy_openblas.so`` in its ``lib`` directory; its location is found
without importing it and passed to the engine as a hint. Without it the
engine tries the system's OpenBLAS, then uses its own kernels.

ONNX Runtime. The ``onnxruntime`` wheel (a dependency of ruvector-text) holds
``capi/libonnxruntime.so.<version>``; it is found the same way and given to
the embed_onnx plugin as its ``ort_lib_wheel`` option (embed.md §3.2: after
the ``ort_lib`` setting and RUVECTOR_ORT_LIB, before the system loader).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, List, NamedTuple, Optional, Union

__all__ = ["ENTRY_POINT_GROUP", "PluginDir", "installed_plugin_dirs", "blas_hint", "ort_hint",
           "EXTRAS"]

ENTRY_POINT_GROUP = "ruvector.plugins"

#: Feature plugins that ship in an extra, for the "install it with" hint.
EXTRAS = {"a2a": "agent", "embed_onnx": "text"}

_SUFFIXES = (".so", ".dylib", ".la")
_PACKAGE_DIR = Path(__file__).resolve().parent


class PluginDir(NamedTuple):
    """One directory searched for plugins."""

    path: str
    #: "ruvector" for the core wheel, else the announcing distribution's name
    source: str
    #: module names of the plugin files in it (the name an Engine is given)
    plugins: tuple[str, ...]
    #: why this entry could not be used, or "" when it is fine
    error: str = ""


def _modules_in(path: str) -> tuple[str, ...]:
    try:
        names = os.listdir(path)
    except OSError:
        return ()
    found = {n.split(".", 1)[0] for n in names if n.endswith(_SUFFIXES) and not n.startswith(".")}
    return tuple(sorted(found))


def _select_entry_points() -> Iterable[Any]:
    eps: Any = metadata.entry_points()
    if hasattr(eps, "select"):  # Python >= 3.10
        return eps.select(group=ENTRY_POINT_GROUP)  # type: ignore[no-any-return]
    return eps.get(ENTRY_POINT_GROUP, ())  # type: ignore[no-any-return]  # 3.9: a dict


def _dist_name(ep: Any) -> str:
    dist = getattr(ep, "dist", None)  # absent on 3.9
    if dist is not None:
        return str(dist.metadata["Name"])
    return str(ep.value.split(":", 1)[0].split(".", 1)[0])


def _resolve(obj: Union[str, "os.PathLike[str]", Callable[[], Any]]) -> str:
    value = obj() if callable(obj) else obj
    return os.fspath(value)


def installed_plugin_dirs() -> List[PluginDir]:
    """The core wheel's plugin directory, then every announced companion's.

    A companion whose entry point fails to load is listed with ``error`` set
    and is not searched; it never stops ``import ruvector``.
    """
    own = str(_PACKAGE_DIR / "plugins")
    dirs = [PluginDir(own, "ruvector", _modules_in(own))]
    seen = {own}
    for ep in sorted(_select_entry_points(), key=lambda e: (str(e.name), str(e.value))):
        source = _dist_name(ep)
        try:
            path = str(Path(_resolve(ep.load())).resolve())
        except Exception as exc:  # a broken companion must not break the core
            dirs.append(PluginDir("", source, (), f"entry point {ep.name!r}: {exc}"))
            continue
        if path in seen:
            continue
        seen.add(path)
        err = "" if os.path.isdir(path) else "not a directory"
        dirs.append(PluginDir(path, source, _modules_in(path), err))
    return dirs


def default_plugin_path() -> str:
    """The plugin path an Engine gets when neither the caller nor
    RUVECTOR_PLUGIN_PATH names one."""
    return os.pathsep.join(d.path for d in installed_plugin_dirs() if d.path and not d.error)


def blas_hint() -> Optional[str]:
    """The lib directory of an installed scipy-openblas32 wheel, or None."""
    try:
        spec = importlib.util.find_spec("scipy_openblas32")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
    return str(lib) if lib.is_dir() else None


def _package_dir(name: str) -> Optional[Path]:
    """Where the installed package ``name`` lives, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _so_version(path: Path) -> tuple[int, ...]:
    """(1, 32, 0) for libonnxruntime.so.1.32.0; parts that are not numbers count as 0."""
    tail = path.name.split(".so.", 1)[-1]
    return tuple(int(p) if p.isdigit() else 0 for p in tail.split("."))


def ort_hint() -> Optional[str]:
    """The newest ``capi/libonnxruntime.so.*`` of an installed onnxruntime
    wheel (wheels carry no symlinks, so the file has its full version in
    its name), or None."""
    pkg = _package_dir("onnxruntime")
    if pkg is None:
        return None
    libs = [p for p in (pkg / "capi").glob("libonnxruntime.so.*") if p.is_file()]
    return str(max(libs, key=_so_version)) if libs else None


#: System libraries a companion's plugin links rather than carries (the
#: ruvector-agent wheel: AGENT_REPAIR in scripts/python-test.sh says why).
SYSTEM_LIBS = {
    "a2a": "libcurl (libcurl.so.4) and OpenSSL 3 (libcrypto.so.3): on Debian and Ubuntu the "
    "packages libcurl4 and libssl3 (libcurl4t64 and libssl3t64 since the 64-bit time_t move)",
}


def extra_hint(name: str) -> str:
    """Text telling how to install the companion that carries a plugin, or,
    when it is installed, what the plugin needs from the system."""
    extra = EXTRAS.get(name)
    if extra is None:
        return ""
    if any(name in d.plugins for d in installed_plugin_dirs() if not d.error):
        needs = SYSTEM_LIBS.get(name)
        return f"; the '{name}' plugin of ruvector[{extra}] is installed" + (
            f" and needs the system's {needs}" if needs else "")
    return (
        f"; the '{name}' plugin ships in the ruvector[{extra}] extra: "
        f"{Path(sys.executable).name} -m pip install 'ruvector[{extra}]'"
    )
