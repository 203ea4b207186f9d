"""A saved model's memory of its researcher's examples: the same unit, or nearly the same text, is found."""

from __future__ import annotations

import pytest

from pipeline.themes.memory import ExampleMemory

TEXTS = ["지역 축제와 연계한 체류형 관광 상품을 개발해야 함",
         "넥스트로컬 참여 기업의 매출과 고용을 3년간 추적 관리",
         "상생상회 온라인몰 입점으로 지역 특산물 판로를 확대하고, 공공기관 구내식당과 지역 농산물 직거래를 연결하는 "
         "유통 체계를 마련해야 함"]


@pytest.fixture
def memory() -> ExampleMemory:
    return ExampleMemory().fit(["r1", "r2", "r3"], TEXTS, ["festival", "performance_evaluation", "sales_channels"])


def test_same_unit_same_text_and_nearly_the_same_text_are_found(memory: ExampleMemory) -> None:
    found, similarity = memory.match(
        ["r2", "x1", "x2", "x3"],
        ["(다른 글이어도 rec_id가 같으면 그 예)", TEXTS[0], TEXTS[2].replace("확대하고", "넓히고"),
         "서울시 청년 창업 지원 예산을 늘려야 함"])
    assert found.tolist() == [1, 0, 2, -1]
    assert similarity[0] == similarity[1] == 1.0 and 0.9 <= similarity[2] < 1.0 and similarity[3] == 0.0


def test_state_round_trips_and_bad_parameters_are_refused(memory: ExampleMemory) -> None:
    again = ExampleMemory.from_state(memory.to_state())
    assert again.examples_ == memory.examples_
    assert again.match(["x"], [TEXTS[1]])[0].tolist() == [1]
    with pytest.raises(ValueError, match="min_similarity"):
        ExampleMemory(min_similarity=0).fit([], [], [])
