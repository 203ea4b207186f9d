"""Each structure variant of docs/formats.md ("A round of opinions") parses as a person would read it."""

from __future__ import annotations

import pytest

from pipeline.read.markers import classify_line
from tests.support.parse_helpers import parse_text, units_from_text


@pytest.mark.parametrize(
    "header, label",
    [
        ("□ ○○○ 위원", "○○○ 위원"),
        ("■ 김철수 위원", "김철수 위원"),
        ("▢ △△△ 위원", "△△△ 위원"),
        ("◆ 홍길동 위원 (서울연구원)", "홍길동 위원 (서울연구원)"),
        ("이영희 위원", "이영희 위원"),
        ("□ 김OO 위원 자문의견", "김OO 위원 자문의견"),
        ("■ ○○○ 위원장", "○○○ 위원장"),
        ("【 ○○○ 위원 】", "○○○ 위원"),
        ("[홍길동 위원]", "홍길동 위원"),
    ],
)
def test_member_header_variants(header, label):
    text = f"{header}\n\n ㅇ 첫 번째 의견\n\n{header.replace('김철수', '박민수')}\n ㅇ 두 번째 의견\n"
    units = parse_text(text).units
    assert [u.text for u in units] == ["첫 번째 의견", "두 번째 의견"]
    assert units[0].member_label == label
    assert units[0].member == 1


def test_partly_masked_names_are_not_merged():
    text = "□ 김OO 위원\nㅇ 가\n□ 김OO 위원\nㅇ 나\n"
    assert [u.member for u in parse_text(text).units] == [1, 2]


def test_numbered_sub_points_stay_in_their_unit():
    units = parse_text(" ㅇ 권고 본문\n   1) 첫째\n   (2) 둘째\n ㅇ 다음\n").units
    assert [u.text for u in units] == ["권고 본문 1) 첫째 (2) 둘째", "다음"]


def test_masked_members_are_numbered_by_appearance_and_real_names_reused():
    text = "□ ○○○ 위원\nㅇ 가\n□ ○○○ 위원\nㅇ 나\n■ 김철수 위원\nㅇ 다\n■ 이영희 위원\nㅇ 라\n■ 김철수 위원\nㅇ 마\n"
    assert [u.member for u in parse_text(text).units] == [1, 2, 3, 4, 3]


def test_box_line_not_ending_in_member_is_a_paragraph_heading():
    text = (
        "□ 서울시는 지역상생 교류사업을 확대한다고 밝혔다\n"
        " ○ 올해는 농부의 시장을 12회 연다\n"
        " ○ 상생상회 입점 지역을 늘린다\n"
        "□ 넥스트로컬 참여자 모집은 3월에 시작한다\n"
    )
    doc = parse_text(text)
    texts = [u.text for u in doc.units]
    assert texts == ["올해는 농부의 시장을 12회 연다", "상생상회 입점 지역을 늘린다", "넥스트로컬 참여자 모집은 3월에 시작한다"]
    assert doc.units[0].question == "서울시는 지역상생 교류사업을 확대한다고 밝혔다"
    assert all(u.member is None for u in doc.units)


@pytest.mark.parametrize(
    "agenda1, agenda2",
    [
        ("❶ 지역상생교류 추진", "❷ 넥스트로컬"),
        ("Ⅰ. 지역상생교류 추진", "Ⅱ. 넥스트로컬"),
        ("Ⅰ 지역상생교류 추진", "Ⅱ 넥스트로컬"),
        ("1. 지역상생교류 추진", "2. 넥스트로컬"),
        ("I. 지역상생교류 추진", "II. 넥스트로컬"),
    ],
)
def test_agenda_variants(agenda1, agenda2):
    text = f"□ ○○○ 위원\n{agenda1}\n[ 평가 ]\n ㅇ 의견 A\n{agenda2}\n[ 역할 ]\n ㅇ 의견 B\n"
    units = units_from_text(text)
    assert [(u.agenda, u.question, u.text) for u in units] == [
        (agenda1.split(" ", 1)[1], "평가", "의견 A"),
        (agenda2.split(" ", 1)[1], "역할", "의견 B"),
    ]
    assert units[1].program_codes == ("NL",) and units[0].program_codes == ()


@pytest.mark.parametrize("heading", ["[ 성과 평가 ]", "【 성과 평가 】", "< 성과 평가 >", "〈 성과 평가 〉"])
def test_question_heading_variants(heading):
    units = parse_text(f"□ ○○○ 위원\n❶ 안건\n{heading}\n ㅇ 평가지표 보완 필요\n").units
    assert units[0].question == "성과 평가"
    assert units[0].text == "평가지표 보완 필요"


def test_question_heading_wrapped_over_two_lines():
    units = parse_text("❶ 안건\n[ 인구감소 및 지역소멸 위기 공동 대응\n  방안 ]\n ㅇ 의견\n").units
    assert units[0].question == "인구감소 및 지역소멸 위기 공동 대응 방안"


def test_unclosed_bracket_does_not_swallow_the_next_agenda():
    # "[ 질문" is never closed before the agenda line: the agenda stays an agenda, not part of a question.
    doc = parse_text("[ 지역 교류 방향\nⅡ. 넥스트로컬\n ]\n ㅇ 청년 창업 지원 확대\n")
    assert doc.units[0].agenda.startswith("넥스트로컬")  # the stray "]" wraps onto the title: kept, not lost
    assert "넥스트로컬" not in doc.units[0].question


@pytest.mark.parametrize("mark", ["ㅇ", "○", "◦", "●"])
def test_recommendation_markers(mark):
    units = parse_text(f"[ 질문 ]\n {mark} 첫째 권고\n {mark} 둘째 권고\n").units
    assert [u.text for u in units] == ["첫째 권고", "둘째 권고"]


@pytest.mark.parametrize("mark", ["-", "–", "·", "▪", "①", "➀", "가."])
def test_sub_point_markers_stay_in_their_unit(mark):
    units = parse_text(f"[ 질문 ]\n ㅇ 권고 본문\n   {mark} 세부 내용\n ㅇ 다음 권고\n").units
    assert len(units) == 2
    assert units[0].subpoints == (f"{mark} 세부 내용",)
    assert units[0].text == f"권고 본문 {mark} 세부 내용"


@pytest.mark.parametrize("mark", ["※", "*"])
def test_note_markers(mark):
    units = parse_text(f" ㅇ 권고 본문\n    {mark} (예시) 케어팜 운영\n").units
    assert units[0].notes == ("(예시) 케어팜 운영",)
    assert units[0].tags == ("예시",)


def test_hard_wrapped_lines_with_blank_lines_between_are_joined():
    text = " ㅇ 지역 창업자가 수도권과 글로벌 영업망을 갖출 수 있도록 지원\n\n하여 경쟁력을 높이고 \n\n상생 구도를 확립함\n ㅇ 다음\n"
    units = parse_text(text).units
    assert units[0].text == "지역 창업자가 수도권과 글로벌 영업망을 갖출 수 있도록 지원하여 경쟁력을 높이고 상생 구도를 확립함"
    assert units[0].line_start == 1 and units[0].line_end == 5


def test_document_without_markers_is_read_by_paragraph():
    text = "서울시는 지역과 상생해야 한다.\n두 번째 줄이다.\n\n농부의 시장을 확대하자.\n\n\n넥스트로컬 성과를 평가하자.\n"
    units = units_from_text(text)
    assert [u.text for u in units] == [
        "서울시는 지역과 상생해야 한다. 두 번째 줄이다.",
        "농부의 시장을 확대하자.",
        "넥스트로컬 성과를 평가하자.",
    ]
    assert units[1].program_codes == ("3-2-1",) and units[2].program_codes == ("NL",)


def test_dash_bullets_are_units_when_there_is_no_recommendation_marker():
    units = parse_text("□ ○○○ 위원\n[ 질문 ]\n - 첫째 의견\n   ※ 참고\n - 둘째 의견\n").units
    assert [u.text for u in units] == ["첫째 의견 ※ 참고", "둘째 의견"]


def test_enumerated_recommendation_split_only_when_items_have_dash_subpoints():
    split = " ㅇ 방향은 두 가지임\n   ① 브랜딩 강화\n   - 근거 하나\n   ② 홍보체계 마련\n   - 근거 둘\n"
    kept = " ㅇ 지표로는\n ① 자원 활용 여부\n ② 고용 수\n ③ 정착률\n"
    assert [u.text for u in parse_text(split).units] == ["브랜딩 강화 - 근거 하나", "홍보체계 마련 - 근거 둘"]
    assert parse_text(split).units[0].lead == "방향은 두 가지임"
    assert [u.text for u in parse_text(kept).units] == ["지표로는 ① 자원 활용 여부 ② 고용 수 ③ 정착률"]


@pytest.mark.parametrize("written", ["(1-2-1)", "[1-2-1]", "【1-2-1】", "‘1-2-1’", "( 1 - 2 - 1 )"])
def test_program_code_bracket_styles(written):
    units = units_from_text(f" ㅇ {written} 사업 확대 필요\n")
    assert units[0].program_codes == ("1-2-1",)
    assert units[0].code_sources == (("1-2-1", "explicit"),)


def test_dates_and_phone_numbers_are_not_codes():
    units = units_from_text(" ㅇ 2024. 3. 5. 회의(2024-03-05), 문의(02-123-4567), 1-2-1 단독 표기\n")
    assert units[0].program_codes == ()


def test_unknown_code_is_kept_and_flagged():
    units = units_from_text(" ㅇ (9-9-9) 신규 사업과 (3-3-1) 사업\n")
    assert units[0].program_codes == ("3-3-1", "9-9-9")
    assert units[0].unknown_codes == ("9-9-9",)


def test_aliases_and_fields():
    units = units_from_text(" ㅇ 상생상회와 농부의 시장, 인적교류 및 물자 교류 확대\n")
    assert units[0].program_codes == ("3-2-1", "3-3-1")
    assert set(units[0].code_sources) == {("3-2-1", "alias"), ("3-3-1", "alias")}
    assert units[0].fields == ("1", "3")


@pytest.mark.parametrize(
    "line, kind",
    [
        ("2024. 3. 5. 자문회의", "text"),
        ("[1-2-1] 사업", "text"),
        ("3~5인 가구", "text"),
        ("□ 기타 의견", "box"),
        ("(예시) 문경", "text"),
    ],
)
def test_lines_that_look_like_markers_but_are_not(line, kind):
    assert classify_line(line).kind == kind


@pytest.mark.parametrize("line", ["3. 5. 자문회의", "12. 2024. 3. 회의", "2. 3.5% 증가"])
def test_numbered_dates_and_decimals_are_not_agenda_items(line):
    assert classify_line(line).kind == "text"


def test_an_agenda_item_that_opens_with_a_year_is_a_heading_not_a_unit():
    # Government outlines number their items ``1. 2027년 …``; read as text, the heading became a unit of
    # every member who repeated it, and those identical units a new-theme candidate of their own.
    units = units_from_text(
        "김민수 위원\n\n1. 2027년 지역상생교류 사업 계획\n< 사업 운영 개선 >\n"
        " ◦ 주말 농촌 체험과 농가 민박을 묶은 체류 상품을 늘려야 함\n\n"
        "이영희 위원\n\n1. 2027년 지역상생교류 사업 계획\n< 판로 >\n"
        " ◦ 지역 농산물 꾸러미를 정기 배송하는 직거래를 시범 도입할 것\n"
    )
    assert [u.text for u in units] == ["주말 농촌 체험과 농가 민박을 묶은 체류 상품을 늘려야 함",
                                       "지역 농산물 꾸러미를 정기 배송하는 직거래를 시범 도입할 것"]
    assert {u.agenda for u in units} == {"2027년 지역상생교류 사업 계획"}
    assert [u.member for u in units] == [1, 2]


@pytest.mark.parametrize("line, label", [
    ("○ 김OO 위원 의견", "김OO 위원 의견"),
    ("1. 홍길동 위원", "홍길동 위원"),
    ("가. 홍길동 위원", "홍길동 위원"),
    ("- 홍길동 위원", "홍길동 위원"),
    ("▶ 홍길동 위원", "홍길동 위원"),
    ("A 위원", "A 위원"),
    ("위원 2 의견", "위원 2 의견"),
    ("□ 위원 B", "위원 B"),
    ("[위원 C]", "위원 C"),
])
def test_member_headers_in_other_layouts(line, label):
    # Minutes list their members after a list marker or keep them anonymous by a letter or a number; read
    # as a recommendation or an agenda item, every unit lost its member.
    got = classify_line(line)
    assert (got.kind, got.text) == ("member", label)


@pytest.mark.parametrize("line", ["○ 관계 부서와 위원", "○ 운영위원회 구성", "1. 위원회 운영", "○ 위원 의견", "○ 각 위원",
                                  "   - 외부 자문위원(2명) "])
def test_lines_that_mention_members_are_not_member_headers(line):
    assert classify_line(line).kind != "member"


def test_anonymous_members_by_letter_keep_their_units_apart_and_together():
    units = units_from_text(
        "A 위원\n ○ 체류형 관광 상품을 늘려야 함\n\nB 위원\n ○ 직거래 장터를 상설화할 것\n\n"
        "A 위원\n ○ 성과지표를 새로 정해야 함\n"
    )
    assert [(u.member, u.member_label) for u in units] == [(1, "A 위원"), (2, "B 위원"), (1, "A 위원")]


def test_members_listed_with_numbers_are_members_not_agenda_items():
    units = units_from_text(
        "1. 홍길동 위원\n ○ 체류형 관광 상품을 늘려야 함\n\n2. 김철수 위원\n ○ 직거래 장터를 상설화할 것\n"
    )
    assert [(u.member, u.agenda) for u in units] == [(1, ""), (2, "")]


def test_numbered_items_are_the_units_of_a_document_without_recommendation_marks():
    # Minutes that number each member's opinions (1), 2) or 가., 나.) instead of marking them ㅇ: each item is
    # a unit, with its dash sub-points. Before, a member's items ran together into one unit and a dash under
    # them became a unit of its own.
    units = units_from_text(
        "A 위원\n1) 체류형 관광 상품을 늘리고 숙박비 일부를 환급해야 함\n2) 직거래 장터를 상설화하여 판로를 넓힐 것\n"
        "   - 온라인몰과 연계\n\nB 위원\n가. 성과지표를 새로 정하고 매년 평가해야 함\n나. 전담 조직과 예산을 확보할 것\n"
    )
    assert [(u.member, u.text) for u in units] == [
        (1, "체류형 관광 상품을 늘리고 숙박비 일부를 환급해야 함"),
        (1, "직거래 장터를 상설화하여 판로를 넓힐 것 - 온라인몰과 연계"),
        (2, "성과지표를 새로 정하고 매년 평가해야 함"),
        (2, "전담 조직과 예산을 확보할 것"),
    ]
    assert units[1].subpoints == ("- 온라인몰과 연계",)


def test_dash_items_stay_the_units_when_numbered_lines_sit_under_them():
    units = units_from_text(
        "A 위원\n- 체류형 관광 상품을 늘려야 함\n  1) 숙박비 일부 환급\n  2) 장기 체류자 우대\n- 직거래 장터를 상설화할 것\n"
    )
    assert [u.text for u in units] == ["체류형 관광 상품을 늘려야 함 1) 숙박비 일부 환급 2) 장기 체류자 우대",
                                       "직거래 장터를 상설화할 것"]


def test_a_box_over_numbered_topics_is_a_section_heading_not_a_unit():
    # A secretariat's compiled opinions: ``□ 분야별 검토의견`` over ``1. …`` topics with ``○`` items under them.
    doc = parse_text(
        "□ 분야별 검토의견\n\n1. 체류·체험 분야\n\n ○ 한 달 이상 머무는 프로그램을 늘려 달라는 의견이 많았음\n\n"
        "2. 판매 분야\n\n ○ 평일 저녁 장터를 시범 운영해 주기 바람\n"
    )
    assert [(u.agenda, u.text) for u in doc.units] == [
        ("체류·체험 분야", "한 달 이상 머무는 프로그램을 늘려 달라는 의견이 많았음"),
        ("판매 분야", "평일 저녁 장터를 시범 운영해 주기 바람"),
    ]
    assert [(s.reason, s.text) for s in doc.unplaced] == [("section_heading", "□ 분야별 검토의견")]


def test_a_title_opening_with_a_masked_place_name_is_not_an_item():
    doc = parse_text("○○구 도농상생 시민참여단 검토의견 (종합)\n\n ○ 평일 저녁 장터를 시범 운영해 주기 바람\n")
    assert [u.text for u in doc.units] == ["평일 저녁 장터를 시범 운영해 주기 바람"]
    assert doc.unplaced[0].text == "○○구 도농상생 시민참여단 검토의견 (종합)"


def test_a_box_sentence_before_the_next_numbered_part_stays_a_unit():
    # A press release's □ paragraphs are its units; the last of a part is followed by the next part's number.
    doc = parse_text(
        "1. 사업 전반\n\n□ 체험 장소의 경사로와 장애인 화장실 설치 여부를 사전에 확인해야 함\n\n"
        "2. 체류형 교류\n\n□ 체류형 관광 상품과 숙박 할인을 묶어 제공할 것\n"
    )
    assert [(u.agenda, u.text) for u in doc.units] == [
        ("사업 전반", "체험 장소의 경사로와 장애인 화장실 설치 여부를 사전에 확인해야 함"),
        ("체류형 교류", "체류형 관광 상품과 숙박 할인을 묶어 제공할 것"),
    ]


def test_a_unit_that_ends_with_who_raised_it_is_that_members():
    # A secretariat's list by topic, each opinion tagged with its member: the tag tells who raised it, and a
    # tag met again is the same member. A fully masked tag (○○○ 위원) tells no one apart.
    units = units_from_text(
        "1. 창업 지원\n  가. 후속 사업화 자금을 별도로 배정할 필요가 있음 (박○○ 위원)\n"
        "  나. 상표 출원 비용을 지원 항목에 포함할 것 (이○○ 위원)\n\n"
        "2. 판로\n  가. 대량 구매처와 창업팀을 잇는 거래를 지원할 것 (박○○ 위원)\n"
        "  나. 온라인 기획전을 분기마다 열 것 (○○○ 위원)\n"
    )
    assert [(u.member, u.member_label) for u in units] == [(1, "박○○ 위원"), (2, "이○○ 위원"), (1, "박○○ 위원"),
                                                          (None, "")]
    assert units[0].text.endswith("(박○○ 위원)")


def test_a_member_who_numbers_opinions_in_a_document_with_marks_elsewhere_still_gets_one_unit_each():
    # The document's header uses ○ (자문 안건, 제출 위원); the members number their opinions (1), (2) with ①
    # under them. Each member's block decides its own units: the ○ elsewhere no longer ran a member's opinions
    # together into one unit. A member named twice in two styles, nothing between, is one member.
    units = units_from_text(
        "○ 자문 안건 : 2025년 지역상생교류 추진계획\n\n[위원 1]\n◇ 최○○ 위원 (○○의료원)\n\n"
        " (1) 체류 프로그램 운영지 인근의 응급의료기관 정보를 안내할 것\n\n"
        " (2) 찾아가는 진료단을 교류사업으로 추진할 것\n     ① 내과 등 수요가 높은 과목을 우선 편성\n\n"
        "[위원 2]\n◇ 한○○ 위원 (○○대학교)\n\n (1) 농부의 시장에 청년 농업인 몫을 따로 배정할 것\n"
    )
    # The header's ``○ 자문 안건 : …`` is the meeting's frame, not an opinion (test_meeting_frame_…).
    assert [(u.member, u.text) for u in units] == [
        (1, "체류 프로그램 운영지 인근의 응급의료기관 정보를 안내할 것"),
        (1, "찾아가는 진료단을 교류사업으로 추진할 것 ① 내과 등 수요가 높은 과목을 우선 편성"),
        (2, "농부의 시장에 청년 농업인 몫을 따로 배정할 것"),
    ]
    assert units[0].member_label == "최○○ 위원 (○○의료원)"


def test_members_who_wrote_nothing_stay_apart():
    units = units_from_text("□ ○○○ 위원\n\n□ ○○○ 위원\n ㅇ 직거래 장터를 상설화할 것\n")
    assert [u.member for u in units] == [2]


MEETING_REPORT = """1. 회의 개요
  - 일    시 : 2024. 6. 27.(목) 15:00 ~ 17:00
  - 참 석 자 : 총 7명
      1) 자문위원 5명 : A 위원(대학교수), B 위원(연구기관)
      2) 서울시 2명 : 지역상생교류과장, 상생교류팀장
  - 안    건
      1) 2024년 상반기 지역상생교류 사업 추진상황

2. 위원별 자문의견
 ○ A 위원
  1) 참가자의 재방문 의향과 지역 내 지출액을 함께 조사할 것
  2) 일시 : 행사 일정은 농번기를 피해서 잡아야 함
"""


def test_meeting_frame_lines_are_listed_not_units():
    parsed = parse_text(MEETING_REPORT)
    assert [(u.member, u.text) for u in parsed.units] == [
        (1, "참가자의 재방문 의향과 지역 내 지출액을 함께 조사할 것"),
        # Inside a member's block a line is the member's, whatever it opens with.
        (1, "일시 : 행사 일정은 농번기를 피해서 잡아야 함"),
    ]
    frame = [s for s in parsed.unplaced if s.reason == "meeting_frame"]
    assert [(s.line_start, s.line_end) for s in frame] == [(2, 7)]
    assert "서울시 2명" in frame[0].text and "상반기 지역상생교류 사업 추진상황" in frame[0].text
    # The section heading over the frame is a heading under which no unit came, not a unit of its own.
    assert [(s.reason, s.text) for s in parsed.unplaced if s.line_start == 1] == [
        ("heading_without_units", "1. 회의 개요")]


def test_the_outline_going_on_after_the_last_member_is_no_members():
    text = MEETING_REPORT + "\n3. 종합 의견\n  - 위원들은 체류형 교류를 늘리자는 데 뜻을 모았음\n"
    units = parse_text(text).units
    assert [(u.member, u.agenda) for u in units] == [(1, ""), (1, ""), (None, "종합 의견")]


def test_the_secretariats_answer_after_the_members_is_listed_not_units():
    # After a meeting report's members, and after opinions tagged with who raised them.
    report = MEETING_REPORT + "\n3. 향후 계획\n  - 위원 의견은 소관 부서별로 검토하여 반영\n"
    tagged = ("Ⅱ. 분야별 자문의견\n1. 선발\n 가. 선발 트랙을 나누어 평가할 것 (김○○ 위원)\n\n"
              "Ⅲ. 사무국 조치계획\n 1. 선발 트랙 분리는 7기 모집공고에 반영 예정임\n 2. 평가표 개편은 연구용역과 연계하여 연내 검토함\n"
              "Ⅳ. 기타\n ㅇ 다음 회의는 11월에 연다\n")
    for text, kept in ((report, 2), (tagged, 1)):
        parsed = parse_text(text)
        assert len([u for u in parsed.units if u.member is not None]) == kept
        answers = [s.text for s in parsed.unplaced if s.reason == "answer_section"]
        assert answers and all(("반영" in a or "검토" in a) for a in answers)
        assert not any("반영 예정" in u.text or "소관 부서별로" in u.text for u in parsed.units)
    # The next heading of the answer's own numbering or above ends it.
    assert [u.text for u in parse_text(tagged).units][-1] == "다음 회의는 11월에 연다"
    # Inside a member's block, an agenda named like an answer is the member's own.
    own = parse_text("□ ○○○ 위원\n1. 향후 계획\n ㅇ 정착 지원 기간을 늘릴 것\n").units
    assert [(u.member, u.text) for u in own] == [(1, "정착 지원 기간을 늘릴 것")]


def test_a_members_own_items_numbered_like_the_outline_stay_theirs():
    # "1. 위원별 의견" stands over members who number their items 1., 2. themselves: the last member's "2." is
    # theirs, not the outline's next heading.
    text = ("1. 위원별 의견\n□ ○○○ 위원\n1. 지역상생교류\n ㅇ 직거래 장터를 늘릴 것\n2. 넥스트로컬\n ㅇ 멘토링을 강화할 것\n"
            "□ △△△ 위원\n1. 지역상생교류\n ㅇ 체류 상품을 만들 것\n2. 넥스트로컬\n ㅇ 정착 지원금을 늘릴 것\n")
    units = parse_text(text).units
    assert [(u.member, u.agenda) for u in units] == [
        (1, "지역상생교류"), (1, "넥스트로컬"), (2, "지역상생교류"), (2, "넥스트로컬")]
