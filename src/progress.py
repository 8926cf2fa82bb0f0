"""Progress of long loops: a tqdm bar with rate and ETA on a terminal, a periodic log line otherwise."""

from __future__ import annotations

import sys

from tqdm import tqdm


def progress(total: int, desc: str, unit: str = "sweep", enabled: bool = True, initial: int = 0) -> tqdm:
    tty = sys.stderr.isatty()
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        disable=not enabled,
        file=sys.stderr,
        mininterval=0.5 if tty else 30.0,
        ascii=not tty,
        dynamic_ncols=tty,
    )
