"""What becomes a unit and what is listed as unplaced: titles, intros, tables before the first structure,
headings without recommendations, and a marker-less document with a lone dash."""

from __future__ import annotations

from tests.support.parse_helpers import SEED, parse_text


def test_a_lone_dash_keeps_a_marker_less_document_in_paragraphs() -> None:
    # Before: the dash made the document a bulleted one, and the paragraphs before it were dropped.
    doc = parse_text("첫 문단입니다\n\n둘째 문단\n\n-\n\n셋째 문단")
    assert [u.text for u in doc.units] == ["첫 문단입니다", "둘째 문단", "셋째 문단"]
    assert doc.unplaced == ()


def test_the_bundled_round_leaves_only_its_title_line_out() -> None:
    doc = parse_text(SEED.read_text(encoding="utf-8"))
    assert [(s.line_start, s.line_end, s.reason, s.text) for s in doc.unplaced] == [
        (2, 2, "preamble", "붙 임  위원별 자문내용")]


def test_a_notice_keeps_its_intro_and_leaves_its_title_and_number_out() -> None:
    intro = "서울시는 지역상생교류 사업의 성과를 점검하기 위하여 자문위원회를 열고 위원들의 의견을 다음과 같이 정리하였다."
    doc = parse_text(f"2025년 자문회의 결과 알림\n\n{intro}\n\n□ 김철수 위원\n ㅇ 상생상회 판로 확대 필요")
    assert [u.text for u in doc.units] == [intro, "상생상회 판로 확대 필요"]
    assert [(s.reason, s.text) for s in doc.unplaced] == [("preamble", "2025년 자문회의 결과 알림")]
    assert doc.units[0].member is None and doc.units[1].member == 1


def test_a_table_before_the_first_structure_is_one_unit_of_its_cells() -> None:
    table = ["구분", "2023년", "2024년", "참여 인원", "1,200명", "1,530명", "방문 시군", "12곳", "17곳",
             "판매 금액", "3억 원", "4억 원", "체류 일수", "2.1일", "2.8일"]
    doc = parse_text("사업 실적 현황\n\n" + "\n\n".join(table) + "\n\n□ 김철수 위원\n ㅇ 실적 관리 강화")
    assert doc.units[0].text == " ".join(table)
    assert (doc.units[0].line_start, doc.units[0].line_end) == (3, 31)
    assert [s.text for s in doc.unplaced] == ["사업 실적 현황"]


def test_a_date_alone_before_the_first_structure_stays_out() -> None:
    doc = parse_text("2025. 3. 5.\n\n담당 부서\n\n□ 김철수 위원\n ㅇ 실적 관리 강화")
    assert [u.text for u in doc.units] == ["실적 관리 강화"]
    assert [(s.line_start, s.line_end, s.text) for s in doc.unplaced] == [(1, 3, "2025. 3. 5.\n담당 부서")]


def test_numbered_sentences_without_recommendations_are_units() -> None:
    text = ("□ 김철수 위원\n"
            "1. 신청서는 검은색 펜으로 작성하시기 바랍니다.\n"
            "2. 사진은 여권 사진 규정에 맞아야 합니다.\n")
    doc = parse_text(text)
    assert [u.text for u in doc.units] == ["1. 신청서는 검은색 펜으로 작성하시기 바랍니다."[3:],
                                          "사진은 여권 사진 규정에 맞아야 합니다."]
    assert all(u.agenda == "" and u.member == 1 for u in doc.units)
    assert doc.unplaced == () and all(kind == "member" for kind, _, _ in doc.headers)


def test_a_table_of_contents_is_listed_as_headings_without_recommendations() -> None:
    text = "<목 차>\n1. 추진 배경\n2. 추진 방향\n\n1. 추진 배경\n ㅇ 지역 교류 확대가 필요함\n"
    doc = parse_text(text)
    assert [(u.agenda, u.text) for u in doc.units] == [("추진 배경", "지역 교류 확대가 필요함")]
    # One stretch: consecutive lines left out for one reason.
    assert [(s.line_start, s.line_end, s.reason, s.text) for s in doc.unplaced] == [
        (1, 3, "heading_without_units", "<목 차>\n1. 추진 배경\n2. 추진 방향")]
