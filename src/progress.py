"""Progress of long loops on rank 0: a tqdm bar with rate and ETA on a terminal, and a log line
with the same figures every 30 s otherwise (batch logs get lines, not carriage returns), with a
timestamp and level (stdlib logging, logger "spinml.progress" on stderr)."""

from __future__ import annotations

import logging
import sys
import time
from functools import cache

from tqdm import tqdm

LOG_INTERVAL = 30.0  # seconds between log lines when stderr is not a terminal


class _Stderr(logging.StreamHandler):
    """A handler on whatever sys.stderr is when a line is written (tests and callers replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


@cache
def logger() -> logging.Logger:
    """The progress logger: '2026-12-07 11:30:00 INFO generate: ...' lines on stderr."""
    log = logging.getLogger("spinml.progress")
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


class LogLines:
    """The tqdm interface the runs use (context manager, update), written as log lines."""

    def __init__(self, total: int, desc: str, unit: str, initial: int = 0, enabled: bool = True):
        self.total, self.desc, self.unit, self.n, self.enabled = total, desc, unit, initial, enabled
        self._start_n, self._start = initial, time.monotonic()
        self._last = self._start

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.enabled and exc[0] is None and self.n > self._start_n:
            self._line()

    def update(self, n: int = 1):
        self.n += n
        now = time.monotonic()
        if self.enabled and now - self._last >= LOG_INTERVAL:
            self._last = now
            self._line()

    def _line(self):
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = (self.n - self._start_n) / elapsed
        eta = (self.total - self.n) / rate if rate > 0 else float("inf")
        logger().info(
            f"{self.desc}: {self.n}/{self.total} {self.unit}s ({100 * self.n / max(self.total, 1):.0f} %), "
            f"{rate:.3g} {self.unit}/s, ETA {eta:.0f} s"
        )


def progress(total: int, desc: str, unit: str = "sweep", enabled: bool = True, initial: int = 0):
    if not sys.stderr.isatty():
        return LogLines(total, desc, unit, initial=initial, enabled=enabled)
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        file=sys.stderr,
        initial=initial,
        mininterval=0.5,
        dynamic_ncols=True,
    )
