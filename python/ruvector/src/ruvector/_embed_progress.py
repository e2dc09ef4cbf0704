"""Download progress for Embedder.from_pretrained (embed.md §6.3): the
plugin reports each file as (file, done, total); this turns that into the
whole fetch's (done, total) for a user's callback, or a one-line bar on
stderr that rewrites itself with carriage returns and ends with a newline.

A file's total is its registry size, known when its download starts, so the
whole fetch's total grows as each file begins; files already verified in the
cache are not downloaded and not counted."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Callable, Dict, Optional, TextIO, Tuple, Union

__all__ = ["ProgressArg", "FetchProgress", "fetch_progress"]

#: What from_pretrained accepts as ``progress``: None (a bar when stderr is
#: a terminal), True (always a bar on stderr), False (nothing) or a
#: callable(done, total) over the whole fetch, in bytes.
ProgressArg = Union[bool, None, Callable[[int, int], object]]

_BAR = 24  # characters between the brackets


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


class FetchProgress:
    """The plugin's progress callable (``__call__(file, done, total)``).
    ``finish()`` ends a drawn bar with a newline; call it once, even when
    the fetch failed."""

    def __init__(
        self,
        label: str,
        callback: Optional[Callable[[int, int], object]] = None,
        stream: Optional[TextIO] = None,
        min_interval: float = 0.1,
    ) -> None:
        self._label = label
        self._callback = callback
        self._stream = stream
        self._min_interval = min_interval
        self._files: Dict[str, Tuple[int, int]] = {}
        self._last_draw = 0.0
        self._drawn_width = 0

    def __call__(self, file: str, done: int, total: int) -> None:
        self._files[file] = (done, max(total, done))
        all_done = sum(d for d, _ in self._files.values())
        all_total = sum(t for _, t in self._files.values())
        if self._callback is not None:
            self._callback(all_done, all_total)
        if self._stream is not None:
            now = time.monotonic()
            # each file's last report is drawn, so the bar ends on 100 %
            if done >= total or now - self._last_draw >= self._min_interval:
                self._last_draw = now
                self._draw(file, all_done, all_total)

    def _draw(self, file: str, done: int, total: int) -> None:
        assert self._stream is not None
        frac = done / total if total else 0.0
        filled = min(_BAR, int(frac * _BAR))
        line = (
            f"{self._label} {int(frac * 100):3d}% [{'#' * filled}{'.' * (_BAR - filled)}] "
            f"{_mb(done)}/{_mb(total)} MB {file}"
        )
        width = shutil.get_terminal_size((80, 24)).columns - 1
        line = line[: max(width, 20)]
        pad = " " * max(0, self._drawn_width - len(line))  # rub out a longer earlier line
        self._stream.write("\r" + line + pad)
        self._stream.flush()
        self._drawn_width = len(line)

    def finish(self) -> None:
        if self._stream is not None and self._drawn_width:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn_width = 0


def _is_tty(stream: Optional[TextIO]) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False


def fetch_progress(label: str, progress: ProgressArg) -> Optional[FetchProgress]:
    """The FetchProgress for from_pretrained's ``progress`` argument, or
    None when nothing is to be reported."""
    if progress is None:
        progress = _is_tty(sys.stderr)
    if progress is False:
        return None
    if progress is True:
        return FetchProgress(label, stream=sys.stderr) if sys.stderr is not None else None
    if callable(progress):
        return FetchProgress(label, callback=progress)
    raise TypeError(f"progress must be True, False, None or a callable(done, total), not {progress!r}")
