"""Progress: one line per stage on stderr as a run goes (silenced by ``--quiet``), each stage timed, and progress
bars for long stages (shown on an interactive terminal, silent in logs, pipes and CI)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

#: What each stage is called in the progress lines on stderr (``--quiet`` silences them).
STAGE_NAMES: dict[str, str] = {
    "read": "파일 읽기", "parse": "권고 나누기", "tokenize": "형태소 분석", "embed": "문장 임베딩",
    "fit": "주제 모델 학습", "cluster": "주제 배정", "label": "주제 요약", "export": "결과 쓰기",
}


def announce(stage: str) -> None:
    """The progress line of ``stage`` (a stage timed elsewhere, or not at all)."""
    log.info("%s …", STAGE_NAMES.get(stage, stage))


class Stages:
    """Wall-clock seconds per named stage; ``with stages("embed"): …`` announces and times one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        announce(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def rounded(self) -> dict[str, float]:
        """The seconds of each stage, rounded to 0.1 ms (as ``run.json`` keeps them)."""
        return {name: round(value, 4) for name, value in self.seconds.items()}


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
