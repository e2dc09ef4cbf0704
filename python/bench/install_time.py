"""Times `pip install` of a built ruvector wheel into a fresh venv (gate G3:
<= 10 s, our target <= 3 s). Not a test: run it by hand or from
scripts/python-test.sh, which prints the numbers.

Dependencies are fetched once into a local cache with `pip download`, so the
timing measures installation, not the network. The venv is created before
the clock starts (creating one is not part of `pip install`).

Usage: python install_time.py WHEEL [--cache DIR] [--repeats N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List


def run(cmd: List[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def venv_python(root: Path) -> Path:
    return root / "bin" / "python"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path)
    ap.add_argument("--cache", type=Path, default=None, help="wheel cache (default: beside the wheel)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    wheel = args.wheel.resolve()
    cache = (args.cache or wheel.parent / "deps-cache").resolve()
    cache.mkdir(parents=True, exist_ok=True)
    # Dependencies once, as wheels, for this interpreter and platform.
    run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(cache),
         str(wheel)])

    def pip_install(py: Path, *what: str) -> float:
        # This interpreter's pip, pointed at the venv (--python, pip >= 22.3).
        t0 = time.perf_counter()
        run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-index",
             "--find-links", str(cache), "--no-compile", *what])
        return time.perf_counter() - t0

    times: List[float] = []
    alone: List[float] = []
    for _ in range(args.repeats):
        root = Path(tempfile.mkdtemp(prefix="ruvector-install-"))
        try:
            run([sys.executable, "-m", "venv", "--without-pip", str(root / "a")])
            run([sys.executable, "-m", "venv", "--without-pip", str(root / "b")])
            py_a, py_b = venv_python(root / "a"), venv_python(root / "b")
            times.append(pip_install(py_a, str(wheel)))  # with numpy and scipy-openblas32
            run([str(py_a), "-c", "import ruvector; ruvector.default_engine()"])
            pip_install(py_b, "numpy", "scipy-openblas32")  # untimed: dependencies present
            alone.append(pip_install(py_b, str(wheel)))  # our wheel's own share
        finally:
            shutil.rmtree(root, ignore_errors=True)

    sizes: Dict[str, int] = {p.name: p.stat().st_size for p in sorted(cache.glob("*.whl"))}
    with zipfile.ZipFile(wheel) as z:
        unpacked = sum(i.file_size for i in z.infolist())
    result = {
        "wheel": wheel.name,
        "wheel_bytes": wheel.stat().st_size,
        "wheel_unpacked_bytes": unpacked,
        "dependency_wheels": sizes,
        "install_seconds": times,
        "install_seconds_best": min(times),
        "install_seconds_wheel_alone": alone,
        "gate_seconds": 10.0,
        "target_seconds": 3.0,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        deps = ", ".join(f"{k} ({v / 1e6:.1f} MB)" for k, v in sizes.items() if k != wheel.name)
        print(f"wheel {wheel.name}: {result['wheel_bytes'] / 1e6:.2f} MB "
              f"({unpacked / 1e6:.2f} MB unpacked); deps: {deps}")
        print("pip install into a fresh venv (local cache): "
              + ", ".join(f"{t:.2f} s" for t in times)
              + f"; best {min(times):.2f} s (gate 10 s, target 3 s)")
        print("  of which ruvector alone (dependencies already installed): "
              + ", ".join(f"{t:.2f} s" for t in alone))
    return 0 if min(times) <= 10.0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
