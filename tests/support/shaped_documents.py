"""Documents shaped like the real ones the parser met (tests/fixtures/real, not distributed), written here by rule.

Each shape is a list of blocks: a paragraph (a string; ``""`` an empty paragraph, as Hangul users leave
between paragraphs) or a table (rows of cells). :func:`as_text` lays them out as the readers give them, one
line per paragraph and per table cell in reading order; :func:`write_hwpx` writes them as an HWPX document
with real tables (python-hwpx), so a test can take one through a reader too. The words are ours; the shapes
are the real documents': a press release's statistics table before its first ``□``, a notice's number, title
and intro paragraphs, a form whose table rows are numbered like agenda items, and a report with a table of
contents and ``Ⅰ.`` sections over ``1.`` items.
"""

from __future__ import annotations

from pathlib import Path

Block = str | list[list[str]]

STATISTICS_TABLE = [["구분", "2023년", "2024년"], ["참여 인원", "1,200명", "1,530명"], ["방문 시군", "12곳", "17곳"],
                    ["판매 금액", "3억 원", "4억 원"], ["체류 일수", "2.1일", "2.8일"]]

#: A press release whose statistics table stands before the first □ (in a real one, 65% of its text).
PRESS_RELEASE: list[Block] = [
    "지역상생교류 사업 실적", "", STATISTICS_TABLE, "",
    "□ 상생상회 판매 금액이 한 해 사이에 3억 원에서 4억 원으로 늘었다.",
    " ㅇ 서울시는 온라인 판로를 넓혀 판매 금액을 더 늘릴 계획이다.",
    " ㅇ 체류형 교류 프로그램을 17개 시군으로 넓힌다.",
]

#: A notice: its number, its title and two intro paragraphs before the first numbered item.
NOTICE: list[Block] = [
    "서울특별시 공고 제2025-123호", "", "2025년 지역상생교류 자문회의 결과 알림", "",
    "서울특별시는 지역상생교류 사업의 성과를 점검하고 개선 방향을 찾기 위하여 자문회의를 열었습니다.", "",
    "위원들이 낸 의견을 다음과 같이 알려 드리니 사업을 추진할 때 참고하시기 바랍니다.", "",
    "1. 상생상회 운영",
    " ㅇ 지역 특산물의 온라인 판매를 늘릴 필요가 있음",
    "2. 체류형 교류",
    " ㅇ 참여 시군과 숙박 연계를 강화해야 함",
]

#: A form: table rows numbered like agenda items (``1. 신청인``), then numbered instructions (sentences).
FORM: list[Block] = [
    "자문위원 활동 신청서", "",
    [["1. 성명", "홍길동"], ["2. 소속", "서울연구원"], ["3. 전문 분야", "지역 정책"], ["4. 연락처", "02-000-0000"]],
    "",
    "□ 작성 방법",
    "1. 신청서는 검은색 펜으로 또박또박 작성하시기 바랍니다.",
    "2. 전문 분야는 최근 5년 동안의 활동을 기준으로 적으시기 바랍니다.",
]

#: A report: a table of contents, then ``Ⅰ.`` sections whose ``1.`` items hold the recommendations.
REPORT: list[Block] = [
    "<목 차>", "Ⅰ. 추진 배경", "1. 현황", "2. 문제점", "Ⅱ. 개선 방향", "1. 목표", "",
    "Ⅰ. 추진 배경",
    "1. 현황",
    " ㅇ 교류 사업이 일부 시군에 몰려 있음",
    "2. 문제점",
    " ㅇ 참여 기관의 성과 관리가 부족함",
    "Ⅱ. 개선 방향",
    "1. 목표",
    " ㅇ 교류 시군을 해마다 늘려야 함",
]


def as_text(blocks: list[Block]) -> str:
    """The lines a reader gives for ``blocks``: one per paragraph; a table as the empty paragraph that anchors
    it, then one line per cell, row by row."""
    lines: list[str] = []
    for block in blocks:
        lines.extend(["", *(cell for row in block for cell in row)] if isinstance(block, list) else [block])
    return "\n".join(lines) + "\n"


def write_hwpx(blocks: list[Block], path: Path) -> Path:
    """Write ``blocks`` as an HWPX document (tables as Hangul tables); returns the path."""
    from hwpx import HwpxDocument

    document = HwpxDocument.new()
    first = True
    for block in blocks:
        if isinstance(block, list):
            table = document.add_table(len(block), len(block[0]))
            for r, row in enumerate(block):
                for c, cell in enumerate(row):
                    table.set_cell_text(r, c, cell)
        elif first:
            document.paragraphs[0].text = block  # the skeleton's first paragraph carries the section's settings
        else:
            document.add_paragraph(block)
        first = False
    document.save_to_path(path)
    return path
