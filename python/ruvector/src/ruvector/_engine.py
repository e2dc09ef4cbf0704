"""Engine: an opened libruvector (CPU probe, plugins, kernel), and introspection."""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import IO, Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _ext
from ._errors import NotFoundError, PluginError
from ._plugins import blas_hint, default_plugin_path, extra_hint, installed_plugin_dirs, ort_hint

__all__ = ["Engine", "default_engine", "runtime_info", "show_runtime", "cpu_features"]

PathArg = Union[str, "os.PathLike[str]"]


class Engine:
    """An opened engine: probes the CPU, loads plugins, selects a kernel.

    Every argument left as None takes its value from the RUVECTOR_*
    environment variable, else the default (API > environment > default;
    ``runtime_info()["config"]`` shows where each value came from).

    Args:
        kernel: force "scalar", "avx2", "avx512", "neon" or "auto".
            A kernel the CPU cannot run raises UnsupportedError, never SIGILL.
        plugins: feature plugins to load (they never load unless named),
            e.g. ``["a2a"]`` once ``ruvector[agent]`` is installed.
        threads: worker threads for build and batch search (0 = one per core).
        plugin_path: plugin directories (str or a sequence). Default: the
            core wheel's plugins plus every installed companion's (see
            ``ruvector.runtime_info()["python"]["plugin_dirs"]``), unless
            RUVECTOR_PLUGIN_PATH is set.
        disable: plugin names never to load.
        verbose: 1 prints one line per decision on stderr, 2 every probe.
        blas: the BLAS library (or a directory holding one) to use; a path
            that cannot be loaded raises NotFoundError naming it. Default:
            the scipy-openblas32 wheel's lib directory when it is installed,
            else the system's OpenBLAS, else the engine's own kernels.
        options: per-plugin settings, ``{"a2a": {"endpoint": "..."}}``.
    """

    __slots__ = ("_h", "_plugin_path_arg", "__weakref__")

    def __init__(
        self,
        kernel: Optional[str] = None,
        plugins: Sequence[str] = (),
        threads: Optional[int] = None,
        *,
        plugin_path: Union[PathArg, Sequence[PathArg], None] = None,
        disable: Union[str, Sequence[str], None] = None,
        verbose: Optional[int] = None,
        blas: Optional[PathArg] = None,
        options: Optional[Mapping[str, Mapping[str, str]]] = None,
    ) -> None:
        if isinstance(plugins, str):
            plugins = (plugins,)
        names = tuple(plugins)
        path: Optional[str]
        if plugin_path is not None:
            if isinstance(plugin_path, (str, os.PathLike)):
                path = os.fspath(plugin_path)
            else:
                path = os.pathsep.join(os.fspath(p) for p in plugin_path)
        elif os.environ.get("RUVECTOR_PLUGIN_PATH"):
            path = None  # the engine reads the variable itself and records "env"
        else:
            path = default_plugin_path()
        if disable is not None and not isinstance(disable, str):
            disable = ",".join(disable)
        blas_path = os.fspath(blas) if blas is not None else blas_hint()
        triples = tuple(
            (str(plugin), str(key), str(value))
            for plugin, kv in (options or {}).items()
            for key, value in kv.items()
        )
        # The onnxruntime wheel's library for embed_onnx (its own key, so an
        # ort_lib setting or RUVECTOR_ORT_LIB still wins; embed.md §3.2).
        ort_lib_wheel = ort_hint()
        if ort_lib_wheel and not any(t[:2] == ("embed_onnx", "ort_lib_wheel") for t in triples):
            triples += (("embed_onnx", "ort_lib_wheel", ort_lib_wheel),)
        def open_engine(blas_path: Optional[str]) -> _ext.Engine:
            return _ext.Engine(
                kernel=kernel,
                plugin_path=path,
                disable=disable,
                plugins=names,
                threads=threads,
                verbose=verbose,
                blas_path=blas_path,
                options=triples,
            )

        try:
            try:
                self._h = open_engine(blas_path)
            except NotFoundError as exc:
                # blas= names a library that must load; the scipy-openblas32
                # hint is only a preference, so the engine's own search (or
                # kernels) take over when it cannot be used.
                if blas is not None or blas_path is None or "BLAS '" not in str(exc):
                    raise
                self._h = open_engine(None)
        except (NotFoundError, PluginError) as exc:
            hints = "".join(extra_hint(n) for n in names if n in str(exc))
            if not hints:
                raise
            raise type(exc)(
                str(exc) + hints, status=exc.status, status_name=exc.status_name
            ) from None
        self._plugin_path_arg = path

    @property
    def kernel(self) -> str:
        """The selected kernel, e.g. "avx2"."""
        return self._h.kernel

    @property
    def kernel_source(self) -> str:
        """How the kernel was chosen: "auto", "env" or "api"."""
        return self._h.kernel_source

    @property
    def blas(self) -> str:
        """The BLAS used for batched exact search and k-means, or why none."""
        return self._h.blas

    @property
    def threads(self) -> int:
        """Worker threads this engine uses."""
        return self._h.threads

    def feature_loaded(self, name: str) -> bool:
        """Whether the feature plugin ``name`` loaded in this engine."""
        return self._h.feature_loaded(name)

    def load_plugin(self, name: str) -> None:
        """Loads the feature plugin ``name`` into this open engine (late
        loading), as ``Engine(plugins=[name])`` would have. Returns when it
        is loaded, or when it is disabled or this CPU cannot run it (the
        report says which); raises the load's error otherwise."""
        try:
            self._h.load_plugin(name)
        except (NotFoundError, PluginError) as exc:
            hints = extra_hint(name)
            if not hints:
                raise
            raise type(exc)(
                str(exc) + hints, status=exc.status, status_name=exc.status_name
            ) from None

    def report(self) -> Dict[str, Any]:
        """The engine's report (``ruv_engine_report``) as a dict."""
        result: Dict[str, Any] = json.loads(self._h.report())
        return result

    def __repr__(self) -> str:
        return f"Engine(kernel={self.kernel!r}, threads={self.threads}, blas={self.blas!r})"


_default: Optional[Engine] = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The engine indexes use when none is given: opened on first use, with
    every setting from the environment or the defaults."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Engine()
    return _default


def cpu_features() -> Dict[str, bool]:
    """Every instruction-set extension ruvector knows, and whether this CPU
    (and its OS) can run it, e.g. ``{"AVX2": True, "AVX512F": False, ...}``."""
    return _ext.cpu_features()


def runtime_info(engine: Optional[Engine] = None) -> Dict[str, Any]:
    """Everything decided at engine open, as a dict: the C report (cpu,
    kernel, blas, plugins, config) plus a "python" section with the package
    version and the plugin directories found through installed packages."""
    eng = engine if engine is not None else default_engine()
    info = eng.report()
    info["python"] = {
        "package": _ext.version(),
        "python": sys.version.split()[0],
        "numpy": _numpy_version(),
        "plugin_path_passed": eng._plugin_path_arg,
        "plugin_dirs": [d._asdict() for d in installed_plugin_dirs()],
        "blas_hint": blas_hint(),
    }
    return info


def _numpy_version() -> str:
    import numpy

    return str(numpy.__version__)


def _plugin_line(p: Mapping[str, Any]) -> str:
    mark = "*" if p.get("selected") else " "
    where = p.get("file") or "-"
    return f"  {mark} {p['name']:<14} {p['state']:<11} {p.get('reason', '')}  [{where}]"


def _topology_line(cpu: Dict[str, Any]) -> str:
    t = cpu.get("topology", {})
    return (f"  topology: {t.get('cores', '?')} cores, {t.get('pus', '?')} logical CPUs, "
            f"L1d {t.get('l1d_bytes', 0) >> 10} KiB, L2 {t.get('l2_bytes', 0) >> 10} KiB, "
            f"L3 {t.get('l3_bytes', 0) >> 20} MiB (from {cpu.get('topology_source', '?')})")


def _slot_lines(kernel: Mapping[str, Any]) -> List[str]:
    """Who supplied each slot of the kernel table: every slot when some
    were raced (with the measured ns per call), else none."""
    slots = kernel.get("slots", [])
    if not any(s.get("ns") for s in slots):
        return []
    lines = []
    for s in slots:
        times = ", ".join(f"{name} {ns:.0f} ns" for name, ns in s.get("ns", {}).items())
        lines.append(f"  {s['slot']:<20} {s['kernel']:<8} {s['how']:<9} {times}".rstrip())
    return lines


def show_runtime(engine: Optional[Engine] = None, file: Optional[IO[str]] = None) -> None:
    """Prints runtime_info() for people, like numpy.show_runtime()."""
    out = file if file is not None else sys.stdout
    info = runtime_info(engine)
    cpu = info.get("cpu", {})
    py = info["python"]
    lines: List[str] = [
        f"ruvector {info.get('ruvector', {}).get('version', '?')} "
        f"(python {py['python']}, numpy {py['numpy']})",
        f"cpu:      {cpu.get('model', '?')} ({cpu.get('arch', '?')})",
        f"  found:   {' '.join(cpu.get('isa_found', []))}",
        f"  missing: {' '.join(cpu.get('isa_missing', []))}",
        _topology_line(cpu),
        f"kernel:   {info['kernel']['name']} ({info['kernel']['source']}: "
        f"{info['kernel'].get('reason', '')})",
        f"slots:    {info['kernel'].get('selection', '?')}",
    ]
    lines += _slot_lines(info["kernel"])
    lines += [
        f"blas:     {info.get('blas', '?')}",
        "plugins considered (* = selected kernel):",
    ]
    lines += [_plugin_line(p) for p in info.get("plugins", [])]
    lines.append("plugin directories from installed packages:")
    for d in py["plugin_dirs"]:
        status = f"  ERROR: {d['error']}" if d["error"] else ""
        names = ", ".join(d["plugins"]) or "(none)"
        lines.append(f"  {d['source']:<22} {names:<28} {d['path']}{status}")
    for name, entries in info.get("features", {}).items():
        lines.append(f"feature {name}:")
        lines += [f"  {key:<14} {value}" for key, value in entries.items()]
    pool = info.get("pool", {})
    lines.append(f"thread pool: {pool.get('workers', '?')} workers started "
                 f"(topology suggests {pool.get('default_workers', '?')})")
    lines.append("config (value, source):")
    for key, val in info.get("config", {}).items():
        if isinstance(val, dict):
            lines.append(f"  {key:<12} {val.get('value')!r} ({val.get('source')})")
        else:
            lines.append(f"  {key:<12} {val!r}")
    print("\n".join(lines), file=out)

