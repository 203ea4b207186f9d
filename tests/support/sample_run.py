"""A small, realistic Korean advisory round built from records directly.

Used by the exporter, report and comparison tests so they do not depend on the parser
or the theme model. ``sample_run("a")`` is a 2024-style round (12 units, 3 members,
2 agendas, 4 themes); ``sample_run("b")`` is a later round with shifted attention
(one theme gone, one new) for run comparisons.

The fixture deliberately contains what tends to break exporters: a unit without any
assignment, an ``unassigned`` assignment, an unknown program code, codes whose
natural order differs from string order (``1-2-1`` < ``1-10-1``), and text with
HTML/script, quotes, commas and a line break.
"""

from __future__ import annotations

from pipeline.core.records import Assignment, ThemeCard, ThemeInfo, Unit
from pipeline.runfolder.cards import theme_cards

AGENDA_1 = "❶ 서울시 지역상생교류 추진"
AGENDA_2 = "❷ ’24년 지역연계형 청년 창업 지원사업(넥스트로컬)"
Q_EVAL = "’23년 추진사업 실적 및 성과에 대한 평가의견 및 개선방안"
Q_ACTIVATE = "지역상생교류 사업 활성화 방안"
Q_ROLES = "서울-지역 간 협력체계 및 역할분담, 지역의 기여도 증대 방안"
Q_METRICS = "지역 내 긍정적 파급효과를 측정할 수 있는 정량적 성과목표 제안"

RunParts = tuple[list[Unit], list[Assignment], list[ThemeCard], dict]

# (member, agenda, question, text, codes as (code, source), fields, unknown codes, theme id, score)
_ROWS_A: list[tuple[int | None, str, str, str, tuple[tuple[str, str], ...], tuple[str, ...],
                    tuple[str, ...], str | None, float]] = [
    (1, AGENDA_1, Q_EVAL,
     "(1-2-1) 랜선나눔캠퍼스 수료인원 지표는 보완이 필요함",
     (("1-2-1", "explicit"),), ("1",), (), "performance_evaluation", 0.8123456),
    (1, AGENDA_1, Q_EVAL,
     "상생상회 매출과 (1-10-1) 교류 횟수를 성과지표로 함께 관리",
     (("1-10-1", "explicit"), ("3-3-1", "alias")), ("3",), (), "performance_evaluation", 0.7712),
    (1, AGENDA_1, Q_ACTIVATE,
     "서울시-지역 간 충분한 홍보와 논의를 통해 지역상생교류 사업 타당성 확보",
     (), (), (), "branding", 0.6634),
    (1, AGENDA_2, Q_ROLES,
     "숙련된 서울 은퇴 시니어와 지역 청년사업체를 연결하여 지역 문제 해결 실마리 잡기",
     (("NL", "agenda"),), (), (), "nextlocal_roles", 0.7021),
    (2, AGENDA_1, Q_ACTIVATE,
     "지역 브랜드 통합 홍보관을 (3-3-1) 상생상회와 연계해 \"서울에서 만나는 지역\"으로 운영",
     (("3-3-1", "explicit"),), ("3",), (), "branding", 0.9012),
    (2, AGENDA_1, Q_ACTIVATE,
     "생활인구 확대를 위해 (1-2-1) 체류형 프로그램, 워케이션, 두 지역 살기를 연계\n"
     "- 체류 기간별 인센티브 설계",
     (("1-2-1", "explicit"),), ("1",), (), "living_population", 0.8555),
    (2, AGENDA_1, Q_EVAL,
     "(9-9-9) 지표는 사업 목록에 없는 코드로, 정의 확인이 필요함",
     (), (), ("9-9-9",), None, 0.0),
    (2, AGENDA_2, Q_METRICS,
     "넥스트로컬 참여 기업의 매출, 고용, 지역 정착률을 3년간 추적 <script>alert('x')</script>",
     (("NL", "agenda"),), (), (), "performance_evaluation", 0.6900),
    (3, AGENDA_1, Q_ACTIVATE,
     "지역 체류 인구를 늘리기 위해 서울 시민 대상 한 달 살기 (1-10-1) 프로그램 확대",
     (("1-10-1", "explicit"),), ("1",), (), "living_population", 0.8801),
    (3, AGENDA_2, Q_ROLES,
     "서울시와 지자체, 지역 대학 간 역할분담 협약 & 전담 코디네이터 배치",
     (("NL", "agenda"),), (), (), "nextlocal_roles", 0.7777),
    (3, AGENDA_2, Q_ROLES,
     "넥스트로컬 창업팀의 홍보는 (3-3-1) 상생상회 팝업과 SNS 채널로 통합",
     (("3-3-1", "explicit"), ("NL", "agenda")), ("3",), (), "branding", 0.7250),
    (None, AGENDA_2, Q_METRICS,
     "※ 성과목표는 정성지표와 정량지표를 병행",
     (("NL", "agenda"),), (), (), "unassigned", 0.1200),
]

_ROWS_B: list[tuple[int | None, str, str, str, tuple[tuple[str, str], ...], tuple[str, ...],
                    tuple[str, ...], str | None, float]] = [
    (1, AGENDA_1, Q_ACTIVATE,
     "지역 특산물 판로 확대를 위해 (3-3-1) 상생상회 온라인몰 입점 지원",
     (("3-3-1", "explicit"),), ("3",), (), "sales_channels", 0.8810),
    (1, AGENDA_1, Q_ACTIVATE,
     "공공기관 구내식당과 지역 농산물 직거래 연결",
     (("3-3-1", "alias"),), ("3",), (), "sales_channels", 0.7400),
    (1, AGENDA_1, Q_EVAL,
     "(1-2-1) 프로그램 만족도 외에 재방문율을 성과지표로 추가",
     (("1-2-1", "explicit"),), ("1",), (), "performance_evaluation", 0.8000),
    (2, AGENDA_1, Q_ACTIVATE,
     "지역 브랜드 공동 홍보 캠페인을 서울 지하철 광고와 연계",
     (), (), (), "branding", 0.7000),
    (2, AGENDA_2, Q_ROLES,
     "넥스트로컬 멘토링을 지역 대학 창업지원단과 공동 운영",
     (("NL", "agenda"),), (), (), "nextlocal_roles", 0.7600),
    (2, AGENDA_2, Q_ROLES,
     "지역 청년 창업팀의 판로를 (3-3-1) 상생상회 입점으로 연결",
     (("3-3-1", "explicit"), ("NL", "agenda")), ("3",), (), "sales_channels", 0.8300),
    (3, AGENDA_1, Q_EVAL,
     "(2-3-6) 박람회 유치 홍보 지원건수 지표의 산식 재검토",
     (("2-3-6", "explicit"),), ("2",), (), "performance_evaluation", 0.7900),
    (3, AGENDA_2, Q_METRICS,
     "넥스트로컬 졸업 기업의 지역 정착률을 핵심 성과지표로 관리",
     (("NL", "agenda"),), (), (), "performance_evaluation", 0.8100),
]

_THEMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "branding": ("브랜딩·홍보·소통", "codebook", ("홍보", "브랜드", "상생상회")),
    "living_population": ("생활인구·체류", "codebook", ("생활인구", "체류", "살기")),
    "nextlocal_roles": ("넥스트로컬 협력체계·역할분담", "codebook", ("역할분담", "협력", "청년")),
    "performance_evaluation": ("성과평가·지표", "codebook", ("지표", "성과", "매출")),
    "sales_channels": ("판로·유통", "discovered", ("판로", "입점", "직거래")),
}


def _build(rows: list, round_id: str, theme_order: list[str]) -> RunParts:
    source = f"corpus/rounds/{round_id}.txt"
    member_labels = {1: "○○○ 위원", 2: "△△△ 위원", 3: "김상생 위원"}
    units: list[Unit] = []
    assignments: list[Assignment] = []
    for i, (member, agenda, question, text, codes, fields, unknown, theme_id, score) in enumerate(rows, 1):
        rec_id = f"{round_id}-{i:03d}"
        units.append(Unit(
            rec_id=rec_id, round=round_id, source=source, member=member,
            member_label=member_labels.get(member, "") if member else "",
            agenda=agenda, question=question, text=text,
            line_start=10 * i, line_end=10 * i + 2,
            tags=("보완필요",) if "보완" in text else (),
            program_codes=tuple(sorted({c for c, _ in codes})),
            code_sources=codes, fields=fields, unknown_codes=unknown,
        ))
        if theme_id == "unassigned":
            assignments.append(Assignment(rec_id, "", "", score, "unassigned"))
        elif theme_id is not None:
            label, source_kind, _ = _THEMES[theme_id]
            assignments.append(Assignment(rec_id, theme_id, label, score, source_kind))
    cards = theme_cards(units, assignments, [ThemeInfo(theme_id, *_THEMES[theme_id]) for theme_id in theme_order])
    run_info = {
        "inputs": [{"path": source, "sha256": "0" * 64}],
        "parameters": {"embedder": "test", "codebook": "corpus/themes.yaml"},
        "seed": 42,
        "programs": {"1-2-1": "서울농장·워케이션 운영", "3-3-1": "상생상회 운영", "NL": "넥스트로컬"},
        "timings": {"parse": 0.01},
        "counts": {"embedded_new": len(units), "embedded_cached": 0},
    }
    return units, assignments, cards, run_info


def sample_run(variant: str = "a") -> RunParts:
    """Return ``(units, assignments, themes, run_info)`` for fixture round ``"a"`` or ``"b"``.

    Fresh objects on every call, so tests may mutate ``run_info`` freely.
    """
    if variant == "a":
        return _build(_ROWS_A, "2024_자문", ["branding", "living_population", "nextlocal_roles",
                                             "performance_evaluation"])
    if variant == "b":
        return _build(_ROWS_B, "2025_자문", ["branding", "sales_channels", "nextlocal_roles",
                                             "performance_evaluation"])
    raise ValueError(f"unknown sample variant {variant!r}")
