"""Progress bars for long stages: shown on an interactive terminal, silent in logs, pipes and CI."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None, enabled: bool | None = None) -> Iterator[T]:
    """Yield ``items`` unchanged, drawing a tqdm bar on stderr while doing so.

    ``desc`` labels the bar, ``total`` overrides ``len(items)``. ``enabled`` forces the
    bar on or off; by default it is shown only when stderr is a terminal, so redirected
    output and CI logs are not filled with carriage-return updates.
    """
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, leave=False, dynamic_ncols=True, file=sys.stderr)
