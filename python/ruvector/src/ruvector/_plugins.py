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

ONNX Runtime. The ``onnxruntime`` wheel (pulled by ``ruvector[text]``) holds
``capi/libonnxruntime.so.<version>``; it too is found without importing it
and passed to the embed_onnx plugin as its ``ort_lib_wheel`` key, which the
``ort_lib`` setting and RUVECTOR_ORT_LIB still beat (embed.md §3.2).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, List, NamedTuple, Optional, Tuple, Union

__all__ = [
    "ENTRY_POINT_GROUP", "PluginDir", "installed_plugin_dirs", "blas_hint", "ort_lib_hint", "EXTRAS",
]

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


def ort_lib_hint() -> Optional[str]:
    """The newest ``capi/libonnxruntime.so.*`` of the installed onnxruntime
    wheel (wheels carry no symlinks), or None."""
    try:
        spec = importlib.util.find_spec("onnxruntime")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    libs = glob.glob(os.path.join(os.path.dirname(spec.origin), "capi", "libonnxruntime.so.*"))

    def version(path: str) -> Tuple[int, ...]:
        tail = path.rsplit("libonnxruntime.so.", 1)[-1]
        return tuple(int(p) for p in re.findall(r"\d+", tail))

    return max(libs, key=version) if libs else None


def extra_hint(name: str) -> str:
    """Text telling how to install the companion that carries a plugin."""
    extra = EXTRAS.get(name)
    if extra is None:
        return ""
    return (
        f"; the '{name}' plugin ships in the ruvector[{extra}] extra: "
        f"{Path(sys.executable).name} -m pip install 'ruvector[{extra}]'"
    )
