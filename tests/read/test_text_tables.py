"""An opinion table written as text (pipes or tabs, one row per line) is read row by row, as a person reads it."""

from __future__ import annotations

from pipeline.read.documents import read_document
from pipeline.read.parser import StructureParser
from pipeline.read.placement import TABLE_COLUMNS
from tests.support.parse_helpers import parse_text, squash, units_from_text

PIPE_TABLE = """2025년 제1차 자문위원회 의견 및 조치계획

연번 | 위원 | 분야 | 의견 | 반영 여부
1 | 강○○ | 지역상생교류 | (1-2-1) 서울농장 예약이 몰리므로 비수기 평일 이용료를 할인할 필요 | 검토
2 |  | 지역상생교류 | 교류 사업마다 신청 창구가 다르므로 통합 누리집을 구축해야 함 | 반영
3 | 남○○ | 넥스트로컬 | 기수별 참여팀 간 정기 교류회를 열고 선배 창업가가 멘토링하도록 운영 | 반영
4 |  |  | 창업팀의 지역 기여를 매출액만으로 판단하지 말고 고용 인원도 측정해야 함 |

※ 반영 여부는 소관 부서의 1차 검토 결과임
"""


def test_each_row_of_a_pipe_table_is_a_unit_of_its_member_and_field():
    parsed = parse_text(PIPE_TABLE)
    units = parsed.units
    assert [u.text for u in units[:4]] == [
        "(1-2-1) 서울농장 예약이 몰리므로 비수기 평일 이용료를 할인할 필요",
        "교류 사업마다 신청 창구가 다르므로 통합 누리집을 구축해야 함",
        "기수별 참여팀 간 정기 교류회를 열고 선배 창업가가 멘토링하도록 운영",
        "창업팀의 지역 기여를 매출액만으로 판단하지 말고 고용 인원도 측정해야 함",
    ]
    # A blank member or field cell is the one above (a merged cell).
    assert [(u.member, u.member_label, u.agenda) for u in units[:4]] == [
        (1, "강○○", "지역상생교류"), (1, "강○○", "지역상생교류"),
        (2, "남○○", "넥스트로컬"), (2, "남○○", "넥스트로컬")]
    assert units_from_text(PIPE_TABLE)[0].program_codes == ("1-2-1",)


def test_the_departments_columns_and_the_header_row_are_listed_not_dropped():
    parsed = parse_text(PIPE_TABLE)
    listed = [(s.line_start, s.text) for s in parsed.unplaced if s.reason == TABLE_COLUMNS]
    assert listed == [(3, "연번 | 위원 | 분야 | 의견 | 반영 여부"), (4, "검토"), (5, "반영"), (6, "반영"),
                      (9, "※ 반영 여부는 소관 부서의 1차 검토 결과임")]
    # No answer is in a unit's text, and every cell's words but the row numbers are somewhere.
    assert not any("반영 여부" in u.text or u.text.endswith(("검토", "반영")) for u in parsed.units)
    placed = squash("".join([*(u.text for u in parsed.units), *(text for _, text, _ in parsed.headers),
                             *(s.text for s in parsed.unplaced)]))
    for line in PIPE_TABLE.splitlines()[3:]:
        for cell in line.split("|")[1:]:
            assert squash(cell) in placed


def test_a_note_under_the_table_is_the_tables_and_what_follows_is_not_the_last_rows():
    parsed = parse_text(PIPE_TABLE + "\n붙임 자료는 별도로 송부함\n")
    assert len(parsed.units) == 5 and not any("1차 검토 결과" in u.text for u in parsed.units)
    assert [(s.reason, s.text) for s in parsed.unplaced if s.line_start == 9] == [
        (TABLE_COLUMNS, "※ 반영 여부는 소관 부서의 1차 검토 결과임")]
    assert parsed.units[4].text == "붙임 자료는 별도로 송부함"


def test_tab_separated_and_markdown_tables_with_a_wrapped_cell():
    tabbed = ("번호\t위원명\t자문 의견\t조치계획\n"
              "1\tA 위원\t지역 축제에 쓰이는 일회용품을 줄일 방안을 마련해야 함\t향후 검토\n"
              "\t\t다회용기 대여 업체와 협약을 맺는 방안도 있음\t\n"
              "2\tB 위원\t참가자 개인정보를 행사 후 즉시 파기할 것\t반영\n")
    markdown = ("| 연번 | 위원 | 주요 의견 |\n|---|:---:|---|\n"
                "| 1 | A 위원 | 지역 축제에 쓰이는 일회용품을 줄일 방안을 마련해야 함 다회용기 대여 업체와 협약을 맺는 방안도 있음 |\n"
                "| 2 | B 위원 | 참가자 개인정보를 행사 후 즉시 파기할 것 |\n")
    for text in (tabbed, markdown):
        units = parse_text(text).units
        assert [(u.member_label, u.text) for u in units] == [
            ("A 위원", "지역 축제에 쓰이는 일회용품을 줄일 방안을 마련해야 함 다회용기 대여 업체와 협약을 맺는 방안도 있음"),
            ("B 위원", "참가자 개인정보를 행사 후 즉시 파기할 것")]


def test_a_table_without_an_opinion_column_is_left_as_text():
    text = "□ ○○○ 위원\nㅇ 예산 현황을 보면\n사업명 | 예산 | 비고\n서울농장 | 5억 | 계속\n상생상회 | 3억 | 신규\n"
    units = parse_text(text).units
    assert len(units) == 1
    assert "서울농장 | 5억 | 계속" in units[0].text


OPINION_TABLE = [
    ["연번", "위원", "의견", "반영 여부"],
    ["1", "A 위원", "지역 축제에 쓰이는 일회용품을 줄일 방안을 마련해야 함", "검토"],
    ["2", "", "참가자 개인정보를 행사 후 즉시 파기할 것", "반영"],
    ["3", "B 위원", "체험 시설의 안전 점검 결과를 공개해야 함", ""],
]
EXPECTED = [("A 위원", "지역 축제에 쓰이는 일회용품을 줄일 방안을 마련해야 함"),
            ("A 위원", "참가자 개인정보를 행사 후 즉시 파기할 것"), ("B 위원", "체험 시설의 안전 점검 결과를 공개해야 함")]


def _units_of(path) -> list[tuple[str, str]]:
    return [(u.member_label, u.text) for u in StructureParser().parse(read_document(path)).units]


def test_an_opinion_table_in_hwpx_is_read_row_by_row_with_merged_member_cells(tmp_path):
    from hwpx import HwpxDocument

    document = HwpxDocument.new()
    document.paragraphs[0].text = "2025년 자문의견 및 조치계획"
    table = document.add_table(len(OPINION_TABLE), len(OPINION_TABLE[0]))
    for r, row in enumerate(OPINION_TABLE):
        for c, cell in enumerate(row):
            if cell:
                table.set_cell_text(r, c, cell)
    table.merge_cells(1, 1, 2, 1)  # A 위원 over two rows, as Hangul merges a cell
    document.add_paragraph("※ 반영 여부는 1차 검토 결과임")
    path = document.save_to_path(tmp_path / "round.hwpx") or tmp_path / "round.hwpx"
    assert _units_of(path)[:3] == EXPECTED


def test_an_opinion_table_in_docx_is_read_row_by_row_and_other_tables_cell_by_cell(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("2025년 자문의견 및 조치계획")
    table = document.add_table(rows=len(OPINION_TABLE), cols=len(OPINION_TABLE[0]))
    for r, row in enumerate(OPINION_TABLE):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    table.cell(1, 1).merge(table.cell(2, 1))
    other = document.add_table(rows=2, cols=3)
    for c, cell in enumerate(["사업명", "예산", "비고"]):
        other.cell(0, c).text = cell
    document.save(tmp_path / "round.docx")
    units = _units_of(tmp_path / "round.docx")
    assert units[:3] == EXPECTED
    lines = [line.text for line in read_document(tmp_path / "round.docx").lines]
    # A table that is not an opinion table keeps one line per cell.
    assert lines[-6:] == ["사업명", "예산", "비고", "", "", ""]


def test_an_opinion_table_in_hwp_is_read_row_by_row(tmp_path):
    from hwp_converter_ai import BlockNode, BlockType, DocumentIR, HwpWriter, InlineNode, InlineType

    def paragraph(text: str) -> BlockNode:
        return BlockNode(type=BlockType.PARAGRAPH, children=[InlineNode(type=InlineType.TEXT, text=text)])

    table = BlockNode(type=BlockType.TABLE, children=[
        BlockNode(type=BlockType.PARAGRAPH, children=[paragraph(cell) for cell in row]) for row in OPINION_TABLE])
    other = BlockNode(type=BlockType.TABLE, children=[
        BlockNode(type=BlockType.PARAGRAPH, children=[paragraph(cell) for cell in row])
        for row in [["구분", "내용", "비고"], ["일정", "2025년 3월", "확정"]]])
    HwpWriter().from_ir(DocumentIR(blocks=[paragraph("2025년 자문의견 및 조치계획"), table, other,
                                           paragraph("※ 반영 여부는 1차 검토 결과임")]), tmp_path / "round.hwp")
    assert _units_of(tmp_path / "round.hwp")[:3] == EXPECTED
    lines = [line.text for line in read_document(tmp_path / "round.hwp").lines]
    assert ["구분", "내용", "비고", "일정", "2025년 3월", "확정"] == [t for t in lines if t in
                                                              ("구분", "내용", "비고", "일정", "2025년 3월", "확정")]


def test_a_cell_holding_several_opinions_gives_one_unit_each(tmp_path):
    import docx
    from hwpx import HwpxDocument

    rows = [["위원", "자문 의견", "조치계획"],
            ["A 위원", "ㅇ 참가자 전원의 상해보험 가입을 의무화할 것\n - 보험료는 사업비로 지원\nㅇ 행사 쓰레기를 줄일 방안을 마련할 것",
             "검토"],
            ["B 위원", "지역 대학과 공동 연구를 추진하여 교류 사업 설계에 활용할 것\n - 연구 결과 공개", "반영"]]
    expected = [("A 위원", "참가자 전원의 상해보험 가입을 의무화할 것 - 보험료는 사업비로 지원"),
                ("A 위원", "행사 쓰레기를 줄일 방안을 마련할 것"),
                ("B 위원", "지역 대학과 공동 연구를 추진하여 교류 사업 설계에 활용할 것 - 연구 결과 공개")]
    hwpx = HwpxDocument.new()
    hwpx.paragraphs[0].text = "자문의견 및 조치계획"
    table = hwpx.add_table(len(rows), len(rows[0]))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            table.set_cell_text(r, c, cell)
    hwpx.save_to_path(tmp_path / "round.hwpx")
    word = docx.Document()
    word.add_paragraph("자문의견 및 조치계획")
    grid = word.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            first, *rest = cell.split("\n")
            grid.cell(r, c).text = first
            for paragraph in rest:
                grid.cell(r, c).add_paragraph(paragraph)
    word.save(tmp_path / "round.docx")
    for name in ("round.hwpx", "round.docx"):
        assert _units_of(tmp_path / name) == expected, name
        parsed = StructureParser().parse(read_document(tmp_path / name))
        assert not any("\u2028" in text for text in [*(u.text for u in parsed.units), *(s.text for s in parsed.unplaced)])
