"""A page break left in a text file (a PDF copied into a .txt) does not cut the opinion it falls in."""

from __future__ import annotations

from pipeline.read.placement import PAGE_FURNITURE
from tests.support.parse_helpers import parse_text

PASTED = """□ 김○○ 위원
 ㅇ 교류 행사에서 발생하는 온실가스 배출량을 산정하고
   - 행사별 탄소 배출량과 감축 실적을 결과보고서에 함께 기

- 1 -
2025년 지역상생 자문회의 결과

재
 ㅇ 체험 프로그램에 휠체어 이용자가 참여할 수 있는지 점검할 것

- 2 -
2025년 지역상생 자문회의 결과

 ㅇ 지역 대학과 공동 연구를 추진할 것
- 3 -
"""


def test_page_numbers_and_the_running_title_are_listed_and_the_opinion_runs_on():
    parsed = parse_text(PASTED)
    assert [u.text for u in parsed.units] == [
        "교류 행사에서 발생하는 온실가스 배출량을 산정하고 - 행사별 탄소 배출량과 감축 실적을 결과보고서에 함께 기재",
        "체험 프로그램에 휠체어 이용자가 참여할 수 있는지 점검할 것",
        "지역 대학과 공동 연구를 추진할 것",
    ]
    listed = [(s.line_start, s.text) for s in parsed.unplaced if s.reason == PAGE_FURNITURE]
    assert listed == [(5, "- 1 -"), (6, "2025년 지역상생 자문회의 결과"), (11, "- 2 -"),
                      (12, "2025년 지역상생 자문회의 결과"), (15, "- 3 -")]


def test_a_dash_line_that_is_no_page_number_stays_a_sub_point():
    text = "□ 김○○ 위원\n ㅇ 예산 비율을 조정할 것\n - 3 -\n ㅇ 다음 의견\n - 7 -\n"
    units = parse_text(text).units
    assert [u.subpoints for u in units] == [("- 3 -",), ("- 7 -",)]
    assert not parse_text(text).unplaced
