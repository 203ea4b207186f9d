"""Texts and checks the embedding tests share: two recommendations about start-up sales channels, one about a
memorial park, the bundled round, and the shape every embedder's output has."""

from __future__ import annotations

import numpy as np

from tests.support.make_fixtures import SEED

__all__ = ["PARK", "SALES_A", "SALES_B", "SEED", "assert_unit_rows"]
SALES_A = "넥스트로컬 청년 창업자의 판로 개척과 홍보를 지원해야 함"
SALES_B = "지역 청년 창업기업의 판매 경로 확보와 마케팅 지원이 필요함"
PARK = "추모공원을 가족 여행 프로그램과 결합하여 조성"


def assert_unit_rows(vectors: np.ndarray, n: int) -> None:
    """``vectors`` is float32 ``(n, d)`` with L2-normalised rows."""
    assert vectors.dtype == np.float32 and vectors.ndim == 2 and len(vectors) == n
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
