"""Joining hard-wrapped lines is linear: a unit wrapped over n lines costs O(n), not O(n²).

This is a complexity check, not a speed goal (those live in bench/): it compares the CPU time of
two sizes 16x apart, which a linear parser keeps near 16x and the old quadratic join took to ~100x.
"""

from __future__ import annotations

import time

from pipeline.read.parser import StructureParser
from tests.support.parse_helpers import doc_from_text

WRAPPED = "지역상생교류 사업의 성과를 시민에게 알리는 방안 "


def _parse_wrapped(n_lines: int) -> tuple[float, str, str]:
    """CPU seconds to parse one recommendation and its agenda title, each wrapped over n_lines."""
    text = "□ ○○○ 위원\n1. 안건 " + f"\n{WRAPPED}" * n_lines + "\nㅇ 권고 " + f"\n{WRAPPED}" * n_lines + "\n"
    doc = doc_from_text(text)
    started = time.process_time()
    (unit,) = StructureParser().parse(doc).units
    return time.process_time() - started, unit.text, unit.agenda


def test_wrapped_lines_join_in_linear_time() -> None:
    small, _, _ = min((_parse_wrapped(5_000) for _ in range(3)), key=lambda r: r[0])
    large, text, agenda = _parse_wrapped(80_000)
    assert text == "권고 " + " ".join([WRAPPED.strip()] * 80_000)
    # A title wraps as a unit does: a space before the break is a word break.
    assert agenda == "안건 " + " ".join([WRAPPED.strip()] * 80_000)
    assert large / small < 48, f"5k lines {small:.3f} s, 80k lines {large:.3f} s: not linear"
