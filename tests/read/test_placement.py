"""What becomes a unit and what is listed as unplaced: titles, intros, tables before the first structure,
headings without recommendations, an outline's sections, and a marker-less document with a lone dash.

The documents shaped like the real ones (tests/support/shaped_documents.py) are read as text and, once each,
as HWPX with real tables: both give the same units and the same unplaced lines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from pipeline.read.documents import read_document
from pipeline.read.parser import ParsedDocument, StructureParser
from tests.support import shaped_documents as shaped
from tests.support.parse_helpers import SEED, parse_text, placed_and_unplaced

SHAPES = {"press_release": shaped.PRESS_RELEASE, "notice": shaped.NOTICE, "form": shaped.FORM,
          "report": shaped.REPORT}


@pytest.fixture(scope="module")
def as_hwpx(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ParsedDocument]:
    folder = tmp_path_factory.mktemp("shaped")
    return {name: StructureParser().parse(read_document(shaped.write_hwpx(blocks, folder / f"{name}.hwpx")))
            for name, blocks in SHAPES.items()}


def squeezed(*texts: str) -> tuple[str, ...]:
    return tuple(text.replace(" ", "") for text in texts)


def test_a_word_processor_paragraph_never_ends_inside_a_word(tmp_path) -> None:
    """Two paragraphs of an HWPX file are two words, where two lines of a text may be one word cut by a wrap."""
    blocks = ["□ ○○○ 위원", "ㅇ 지역 교류 행사의 참가자 안전 대책을", "마련할 필요", [["담당", "주무관"], ["성명", "홍길동"]]]
    hwpx = StructureParser().parse(read_document(shaped.write_hwpx(blocks, tmp_path / "paragraphs.hwpx")))
    assert [u.text for u in hwpx.units] == ["지역 교류 행사의 참가자 안전 대책을 마련할 필요 담당 주무관 성명 홍길동"]
    text = parse_text("□ ○○○ 위원\nㅇ 게스트\n하우스 이용 인원을 늘릴 필요\n")
    assert text.units[0].text == "게스트하우스 이용 인원을 늘릴 필요"


def hangul(texts: list[str]) -> Counter:
    return Counter(ch for text in texts for ch in text if "가" <= ch <= "힣")


@pytest.mark.parametrize("name", SHAPES)
def test_a_shaped_document_reads_alike_as_text_and_as_hwpx(as_hwpx, name: str) -> None:
    text = shaped.as_text(SHAPES[name])
    doc, hwpx = parse_text(text), as_hwpx[name]
    # Alike but for spaces: a table cell on a line of its own in a text may end inside a word (a wrap), an
    # HWPX paragraph never does, so `2024년` / `참여 인원` read `2024년참여 인원` in the text only.
    assert [(u.line_start, *squeezed(u.text, u.agenda)) for u in hwpx.units] == [
        (u.line_start, *squeezed(u.text, u.agenda)) for u in doc.units]
    assert [replace(s, source="", text=squeezed(s.text)[0]) for s in hwpx.unplaced] == [
        replace(s, source="", text=squeezed(s.text)[0]) for s in doc.unplaced]
    # Nothing dropped: every syllable is in a unit, a heading a unit stands under, or an unplaced stretch.
    assert hangul(placed_and_unplaced(doc)) == hangul(text.split("\n"))


def test_a_statistics_table_before_the_first_box_is_one_unit_and_its_title_stays_out() -> None:
    doc = parse_text(shaped.as_text(shaped.PRESS_RELEASE))
    table = doc.units[0]
    assert all(cell.replace(" ", "") in table.text.replace(" ", "") for row in shaped.STATISTICS_TABLE for cell in row)
    assert (table.member, table.agenda, table.question) == (None, "", "")
    assert [u.question for u in doc.units[1:]] == ["상생상회 판매 금액이 한 해 사이에 3억 원에서 4억 원으로 늘었다."] * 2
    assert [(s.reason, s.text) for s in doc.unplaced] == [("preamble", "지역상생교류 사업 실적")]


def test_a_notice_keeps_its_intro_paragraphs_and_leaves_its_number_and_title_out() -> None:
    doc = parse_text(shaped.as_text(shaped.NOTICE))
    intro = [b for b in shaped.NOTICE[4:7] if b]
    assert [u.text for u in doc.units[:2]] == intro and all(u.agenda == "" for u in doc.units[:2])
    assert [u.agenda for u in doc.units[2:]] == ["상생상회 운영", "체류형 교류"]
    assert [(s.line_start, s.line_end, s.reason, s.text) for s in doc.unplaced] == [
        (1, 3, "preamble", "서울특별시 공고 제2025-123호\n2025년 지역상생교류 자문회의 결과 알림")]


def test_form_rows_numbered_like_agenda_items_are_listed_and_numbered_sentences_are_units() -> None:
    doc = parse_text(shaped.as_text(shaped.FORM))
    texts = [u.text for u in doc.units]
    assert texts[-2:] == ["신청서는 검은색 펜으로 또박또박 작성하시기 바랍니다.", "전문 분야는 최근 5년 동안의 활동을 기준으로 적으시기 바랍니다."]
    rows = [s for s in doc.unplaced if s.reason == "heading_without_units"]
    assert [s.text for s in rows] == ["1. 성명\n홍길동\n2. 소속\n서울연구원\n3. 전문 분야\n지역 정책\n4. 연락처\n02-000-0000"]
    # The □ heading over the numbered sentences is their section; it used to be a unit of its own, under the
    # last form row as its agenda.
    assert [(s.reason, s.text) for s in doc.unplaced if s.reason == "section_heading"] == [
        ("section_heading", "□ 작성 방법")]
    assert [(s.reason, s.text) for s in doc.unplaced if s.reason == "preamble"] == [("preamble", "자문위원 활동 신청서")]


def test_section_headings_over_items_with_units_have_their_own_reason() -> None:
    # Ⅰ./Ⅱ. sections whose 1./2. items hold the recommendations: the parser keeps the item as the agenda, and
    # lists the section as a section heading, not as a heading without recommendations; the table of contents
    # (the same headings with nothing under them) stays a list of headings without units.
    doc = parse_text(shaped.as_text(shaped.REPORT))
    assert [(u.agenda, u.text) for u in doc.units] == [
        ("현황", "교류 사업이 일부 시군에 몰려 있음"), ("문제점", "참여 기관의 성과 관리가 부족함"), ("목표", "교류 시군을 해마다 늘려야 함")]
    assert [(s.line_start, s.line_end, s.reason) for s in doc.unplaced] == [
        (1, 6, "heading_without_units"), (8, 8, "section_heading"), (13, 13, "section_heading")]


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        # A section with no unit under its items is a heading without units like any other.
        ("Ⅰ. 추진 배경\n1. 현황\n2. 문제점\nⅡ. 개선 방향\n1. 목표\n ㅇ 교류 시군을 늘려야 함\n",
         [(1, 3, "heading_without_units"), (4, 4, "section_heading")]),
        # A member closes a section; the next member's Ⅰ. opens its own.
        ("□ 김철수 위원\nⅠ. 운영\n1. 판로\n ㅇ 판로 확대 필요\n□ 이영희 위원\nⅠ. 운영\n ㅇ 생활인구 확대\n",
         [(2, 2, "section_heading")]),
        # A 1. item followed by a Ⅰ. heading ends a list: it is no section over what follows.
        ("1. 목록 항목\nⅠ. 운영\n1. 판로\n ㅇ 판로 확대 필요\n", [(1, 1, "heading_without_units"), (2, 2, "section_heading")]),
        # ❶ under Ⅰ.: an outline of three levels.
        ("Ⅰ. 운영\n❶ 판로\n1. 온라인\n ㅇ 온라인 판매 확대\n", [(1, 2, "section_heading")]),
    ],
)
def test_outline_levels_open_and_close_sections(text: str, reasons: list[tuple[int, int, str]]) -> None:
    doc = parse_text(text)
    assert [(s.line_start, s.line_end, s.reason) for s in doc.unplaced] == reasons
    assert hangul(placed_and_unplaced(doc)) == hangul(text.split("\n"))


def test_a_prose_section_heading_with_nothing_under_its_items_is_a_unit() -> None:
    doc = parse_text("Ⅰ. 지역 교류 사업은 시군과 함께 다시 설계해야 한다.\n1. 현황\n2. 과제\n")
    assert [u.text for u in doc.units] == ["지역 교류 사업은 시군과 함께 다시 설계해야 한다."]
    assert [(s.line_start, s.line_end, s.reason) for s in doc.unplaced] == [(2, 3, "heading_without_units")]


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


def test_a_question_a_member_left_unanswered_is_listed_not_made_a_unit_of_theirs() -> None:
    # The committee's question is repeated for every member; the second member wrote nothing under it.
    question = "[ 지역 내 긍정적 파급효과를 측정할 수 있는 정량적 성과목표 제안 ]"
    text = (f"□ 가 위원\n1. 서울시 지역상생교류 추진\n{question}\n ㅇ 성과지표를 방문객 수에서 재방문율로 바꿔야 함\n"
            f"□ 나 위원\n1. 서울시 지역상생교류 추진\n{question}\n")
    doc = parse_text(text)
    assert [(u.member, u.text) for u in doc.units] == [(1, "성과지표를 방문객 수에서 재방문율로 바꿔야 함")]
    assert [(s.line_start, s.line_end, s.reason) for s in doc.unplaced] == [(5, 7, "heading_without_units")]
