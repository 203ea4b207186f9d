"""The researcher-facing report: one self-contained HTML page and the same summaries as Markdown.

The HTML is rendered from ``templates/report.html.j2`` by :mod:`pipeline.runfolder.pages` (jinja2,
autoescaped, no external resources: styles, script, the unit data as JSON and a Korean font subset are
inline), so the file can be mailed or opened offline. Every piece of text from the documents is
escaped; the script only ever sets ``textContent``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pandas as pd

from pipeline.core.errors import InputError
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, ThemeCard, ThemeInfo, Unit, Unplaced
from pipeline.read.placement import REASON_LABELS
from pipeline.read.programs import program_code_key, program_names
from pipeline.read.rounds import unplaced_line_count
from pipeline.runfolder.cards import member_name, several_rounds
from pipeline.runfolder.matrices import NO_CODE
from pipeline.runfolder.pages import embedded_json, render_page
from pipeline.runfolder.schema import correction_cells
from pipeline.themes.corrections import Correction
from pipeline.themes.openset import is_new_theme
from pipeline.themes.promote import candidate_examples, candidate_theme, theme_yaml, unnamed

SOURCE_BADGES: dict[str, str] = {"codebook": "코드북", "discovered": "발견", "researcher": "연구자",
                                  UNASSIGNED_ID: "미분류"}
_QUOTE_CHARS = 220
#: What the "new this round" section says without candidates: with a codebook, and without one.
NO_CANDIDATES = "코드북에 없는 새 주제 후보가 없습니다: 모든 권고가 코드북 주제에 들어갔습니다."
NO_CODEBOOK = "코드북 없이 분석한 결과입니다: 모든 주제가 이 회차에서 발견한 주제입니다."
_NO_CODE = "__none__"


def _assigned(units: Sequence[Unit], assignments: Sequence[Assignment]) -> dict[str, tuple[str, str, str, float]]:
    """rec_id → (theme_id, theme_label, theme_source, score); units without a theme map to 미분류."""
    by_rec = {a.rec_id: a for a in assignments}
    out: dict[str, tuple[str, str, str, float]] = {}
    for u in units:
        a = by_rec.get(u.rec_id)
        if a is None or a.theme_source == UNASSIGNED_ID or not a.theme_id:
            out[u.rec_id] = (UNASSIGNED_ID, UNASSIGNED_LABEL, UNASSIGNED_ID, a.theme_score if a else 0.0)
        else:
            out[u.rec_id] = (a.theme_id, a.theme_label or a.theme_id, a.theme_source, a.theme_score)
    return out


def _overview(units: Sequence[Unit], assignments: Sequence[Assignment], cards: Sequence[ThemeCard]) -> dict:
    """Header facts: rounds, sources and counts."""
    assigned = _assigned(units, assignments)
    return {
        "rounds": list(dict.fromkeys(u.round for u in units)),
        "sources": list(dict.fromkeys(u.source for u in units)),
        "units": len(units),
        "themes": len(cards),
        "members": len({(u.round, u.member) for u in units if u.member is not None}),
        "unassigned": sum(1 for v in assigned.values() if v[0] == UNASSIGNED_ID),
        "needs_review": sum(1 for a in assignments if a.needs_review),
        "new_themes": len(_new_theme_cards(cards)),
        "new_theme_units": sum(card.size for card in _new_theme_cards(cards)),
    }


def _quote_text(text: str) -> str:
    """A unit's text on one line, shortened for a card."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _QUOTE_CHARS else flat[: _QUOTE_CHARS - 1].rstrip() + "…"


def _matrix_rows(matrix: pd.DataFrame) -> list[tuple[str, str, list[int]]]:
    """(theme_id, theme_label, counts) per matrix row; a plain index serves as both id and label."""
    rows = []
    for key, values in zip(matrix.index, matrix.to_numpy(dtype="int64").tolist(), strict=True):
        theme_id, label = (str(key[0]), str(key[-1])) if isinstance(key, tuple) else (str(key), str(key))
        rows.append((theme_id, label, [int(v) for v in values]))
    return rows


#: Korean names of the run parameters shown in the settings panel; the option name is shown beside them.
SETTING_LABELS: dict[str, str] = {
    "command": "명령", "codebook": "코드북", "path": "경로", "sha256": "SHA-256",
    "embedder": "임베딩 모델", "embedder_model_id": "임베딩 모델 식별자", "model": "주제 모델",
    "lexical_weight": "어휘 점수 가중치", "semantic_weight": "의미 벡터 가중치(발견)",
    "n_refine": "프로토타입 보정 반복", "refine_weight": "보정 가중치",
    "min_similarity": "최소 유사도(미만은 발견 단계로)",
    "n_themes": "발견 주제 수", "min_theme_size": "최소 주제 크기", "max_themes": "최대 주제 수",
    "n_keywords": "주제별 핵심어 수", "nmf_sample": "NMF 비교 표본 수", "umap_init": "UMAP 초기화",
    "new_themes": "새 주제 후보 찾기 (auto: tfidf가 아닌 임베딩일 때)",
    "min_new_theme_size": "새 주제 후보의 최소 권고 수",
    "seed": "난수 시드", "programs": "사업 목록 파일", "save_model": "모델 저장 폴더", "workers": "작업 스레드 수",
    "corrections": "연구자 수정 파일", "model_dir": "사용한 모델 폴더",
}


def _setting_value(value: object) -> str:
    if value is None:
        return "없음(기본값)"
    if isinstance(value, bool):
        return "예" if value else "아니오"
    if value == "auto":
        return "자동 (auto)"
    return str(value)


def _settings(run_info: dict) -> list[dict]:
    """Rows of the Korean settings panel: run parameters (one level of nesting shown indented) and the seed."""
    params = run_info.get("parameters")
    rows: list[dict] = []
    if not isinstance(params, dict):
        return rows
    for key, value in sorted(params.items()):
        nested = isinstance(value, dict) and bool(value)
        rows.append({"key": key, "label": SETTING_LABELS.get(key, key), "sub": False,
                     "value": "" if nested else _setting_value(value)})
        if nested:
            rows += [{"key": k, "label": SETTING_LABELS.get(k, k), "sub": True, "value": _setting_value(v)}
                     for k, v in sorted(value.items())]
    return rows


def _new_theme_cards(cards: Sequence[ThemeCard]) -> list[ThemeCard]:
    """The cards of the round's new-theme candidates (codebook mode), in card order."""
    return [card for card in cards if is_new_theme(card.theme_id, card.source)]


def _codebook_mode(cards: Sequence[ThemeCard], model_themes: Sequence[ThemeInfo] = ()) -> bool:
    """Whether the run had a codebook (without one every theme is found in the round; none is "new")."""
    return any(t.source == "codebook" for t in (*cards, *model_themes))


def _candidate(card: ThemeCard, units: Sequence[Unit], assignments: Sequence[Assignment],
               by_rec: dict[str, Unit], total: int) -> dict:
    """What the report's "new this round" section shows of one candidate, with the codebook entry it
    would become (:mod:`pipeline.themes.promote`) as YAML to copy and the command that writes it."""
    name = unnamed(card.label)
    try:
        snippet = theme_yaml(candidate_theme(card.theme_id, name, card.keywords,
                                             candidate_examples(card.theme_id, units, assignments)))
    except InputError:  # a candidate without keywords has no entry to offer
        snippet = ""
    return {**_card(card, by_rec, total), "name": name, "yaml": snippet,
            "command": f'advisory codebook promote <결과 폴더> {card.theme_id} --label "{name}" --out themes.yaml'}


def _facts(overview: dict, run_info: dict) -> list[tuple[str, str]]:
    facts = [
        ("회차", ", ".join(overview["rounds"]) or "-"),
        ("원문", ", ".join(overview["sources"]) or "-"),
        ("권고", f"{overview['units']}건"),
        ("주제", f"{overview['themes']}개"),
        ("위원", f"{overview['members']}명"),
        ("미분류", f"{overview['unassigned']}건"),
        ("검토 필요", f"{overview['needs_review']}건"),
        ("새 주제 후보", f"{overview['new_themes']}개 (권고 {overview['new_theme_units']}건)"),
    ]
    if "seed" in run_info:
        facts.append(("시드", str(run_info["seed"])))
    return facts


def _card(card: ThemeCard, by_rec: dict[str, Unit], total: int) -> dict:
    """What the HTML template shows of one theme card; ``total`` is the run's number of units."""
    quotes = [by_rec[r] for r in card.representative_rec_ids if r in by_rec]
    return {
        "theme_id": card.theme_id, "label": card.label, "source": card.source,
        "badge": SOURCE_BADGES.get(card.source, card.source), "size": card.size, "share": f"{card.size / total:.0%}",
        "keywords": card.keywords,
        "quotes": [{"text": _quote_text(u.text), "member": member_name(u), "rec_id": u.rec_id} for u in quotes],
        "counted": [("위원", card.member_counts, ""), ("안건", card.agenda_counts, ""),
                    ("사업", card.program_counts, "code")],
    }


def _matrix(matrix: pd.DataFrame, sizes: dict[str, int], names: dict[str, str]) -> dict:
    """The clickable matrix: headers as in the CSV, and per cell the program filter's value for its column.

    The :data:`~pipeline.runfolder.matrices.NO_CODE` column filters on the program filter's "no code" option.
    """
    codes = [str(c) for c in matrix.columns]
    filter_values = [_NO_CODE if c == NO_CODE else c for c in codes]
    rows = _matrix_rows(matrix)
    peak = max([1, *(v for _, _, values in rows for v in values)])
    return {
        "codes": [(c, "사업 코드가 없는 권고" if c == NO_CODE else names.get(c, c)) for c in codes],
        "rows": [{"theme_id": theme_id, "label": label, "size": sizes.get(theme_id, 0),
                  "cells": [{"code": c, "value": f, "count": v, "shade": f"{v / peak:.3f}"}
                            for c, f, v in zip(codes, filter_values, values, strict=True)]}
                 for theme_id, label, values in rows],
    }


def _filters(units: Sequence[Unit], choices: list[tuple[str, str]],
             names: dict[str, str]) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(element id, label, "all" label, options) of each select filter."""
    with_round = several_rounds(units)
    members = sorted({(u.round, u.member is None, u.member or 0, member_name(u, with_round)) for u in units})
    codes = [(c, f"{c} {names[c]}" if c in names else c)
             for c in sorted({c for u in units for c in u.program_codes}, key=program_code_key)]
    if any(not u.program_codes for u in units):
        codes.append((_NO_CODE, NO_CODE))  # the matrix column's label, so the two read alike
    return [
        ("f-member", "위원", "전체 위원", [(key[3], key[3]) for key in members]),
        ("f-agenda", "안건", "전체 안건", [(a, a) for a in dict.fromkeys(u.agenda for u in units)]),
        ("f-program", "사업", "전체 사업", codes),
        ("f-theme", "주제", "전체 주제", choices),
    ]


def _theme_choices(units: Sequence[Unit], assignments: Sequence[Assignment], cards: Sequence[ThemeCard],
                   model_themes: Sequence[ThemeInfo]) -> list[tuple[str, str]]:
    """Every theme a unit can be moved to: the model's themes in its order (codebook themes first, those
    without units included), any other theme a card or unit holds, then 미분류. A theme with a card is
    shown with the card's label."""
    choices = {t.theme_id: t.label for t in model_themes}
    # Assigning to an existing key keeps its position: the model's order with the cards' labels.
    choices.update((t.theme_id, t.label) for t in cards)
    for theme_id, label, _, _ in _assigned(units, assignments).values():
        choices.setdefault(theme_id, label)
    choices.pop(UNASSIGNED_ID, None)
    return [*choices.items(), (UNASSIGNED_ID, UNASSIGNED_LABEL)]


def _units_payload(units: Sequence[Unit], assignments: Sequence[Assignment]) -> list[dict]:
    assigned = _assigned(units, assignments)
    by_rec = {a.rec_id: a for a in assignments}
    with_round = several_rounds(units)
    payload = []
    for u in units:
        theme_id, label, source, score = assigned[u.rec_id]
        a = by_rec.get(u.rec_id)
        margin = None if a is None or a.theme_margin is None else round(float(a.theme_margin), 4)
        payload.append({
            "rec_id": u.rec_id, "member": member_name(u, with_round), "agenda": u.agenda, "question": u.question,
            "text": u.text, "theme_id": theme_id, "theme_label": label, "theme_source": source,
            "theme_score": None if a is None else round(float(score), 4),
            "theme_runner_up": "" if a is None else a.theme_runner_up, "theme_margin": margin,
            "needs_review": bool(a is not None and a.needs_review),
            "codes": list(u.program_codes), "lines": f"{u.line_start}-{u.line_end}",
        })
    return payload


def _unplaced(unplaced: Sequence[Unplaced]) -> dict:
    """The report's collapsed list of the lines no unit took: rows and the number of lines."""
    rows = [{"source": s.source, "lines": f"{s.line_start}-{s.line_end}" if s.line_end > s.line_start
             else str(s.line_start), "reason": REASON_LABELS.get(s.reason, s.reason), "text": s.text}
            for s in unplaced]
    return {"rows": rows, "lines": unplaced_line_count(unplaced)}


def _run_key(units: Sequence[Unit]) -> str:
    """What the page's saved edits are kept under in the browser: its rounds and units, so a rerun of the same
    round finds them again and another round's page does not."""
    key = "\n".join(sorted({u.round for u in units}) + sorted(u.rec_id for u in units))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


#: The hint's command when the caller gives none (a run folder written by code, not by a command).
GENERIC_RERUN = "advisory run <회차 파일> --out <이 결과 폴더> --corrections corrections.csv"


def render_report(units: Sequence[Unit], assignments: Sequence[Assignment], cards: Sequence[ThemeCard],
                  matrix: pd.DataFrame, run_info: dict, model_themes: Sequence[ThemeInfo] = (),
                  unplaced: Sequence[Unplaced] = (), *,
                  record: Sequence[Correction] = (), rerun: str | None = None) -> str:
    """Return the self-contained Korean HTML report of one run (``templates/report.html.j2``).

    In: the run's units, assignments and theme cards (:func:`pipeline.runfolder.cards.theme_cards`, rendered
    as they are), the theme × program matrix of ``theme_program_matrix.csv``
    (:func:`pipeline.runfolder.matrices.complete_matrix`, shown as it is), ``run_info`` (``seed`` and
    ``parameters`` are shown in the settings panel) and the model's themes (:class:`ThemeInfo`, in
    the model's order; a codebook theme no unit took has no card but is offered for corrections).
    Out: an HTML document with theme cards, the clickable matrix, and the unit list with
    member/agenda/program/theme/review filters and text search; each unit shows its score and
    runner-up and has a theme select box (the model's themes, any other theme of the run, "새 주제…" and
    미분류). The page keeps its edits in the browser (``localStorage``, keyed by :func:`_run_key`), warns
    before closing with edits not downloaded, and one button downloads the whole record as
    ``corrections.csv``: the run's ``record`` with this page's edits on top. ``rerun`` is the command the
    hint shows (:func:`pipeline.workflow.rerun_command`). The lines no unit took (``unplaced``, as in
    ``unplaced.csv``) are listed in a collapsed section. A subset of NanumGothic with
    exactly the page's characters is embedded (:mod:`pipeline.runfolder.fonts`), so Hangul renders
    without a Korean system font. Same inputs give the same string.
    """
    overview = _overview(units, assignments, cards)
    sizes = {card.theme_id: card.size for card in cards}
    sizes[UNASSIGNED_ID] = overview["unassigned"]
    names = program_names(run_info)
    by_rec = {u.rec_id: u for u in units}
    choices = _theme_choices(units, assignments, cards, model_themes)
    payload = {"units": _units_payload(units, assignments),
               "themes": [{"id": theme_id, "label": label} for theme_id, label in choices],
               "record": [correction_cells(c) for c in record],
               "run_key": _run_key(units)}
    context = {
        "overview": overview, "facts": _facts(overview, run_info), "settings": _settings(run_info),
        "cards": [_card(card, by_rec, max(len(units), 1)) for card in cards], "matrix": _matrix(matrix, sizes, names),
        "candidates": [_candidate(card, units, assignments, by_rec, max(len(units), 1))
                       for card in _new_theme_cards(cards)],
        "codebook_mode": _codebook_mode(cards, model_themes),
        "filters": _filters(units, choices, names), "payload": embedded_json(payload),
        "unplaced": _unplaced(unplaced),
        "no_candidates": NO_CANDIDATES, "no_codebook": NO_CODEBOOK,
        "rerun": rerun or GENERIC_RERUN, "record_count": len(record),
    }
    return render_page("pipeline.runfolder", "report", context)


def _md(text: object) -> str:
    """Text safe inside a Markdown table cell or list item: one line, pipes and markup characters escaped.

    ``_`` is left alone: inside words (``2024_자문``) it never starts emphasis, and ids read better unescaped.
    """
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in "\\|*`[]<>" else ch for ch in flat)


def render_summary_md(units: Sequence[Unit], assignments: Sequence[Assignment], cards: Sequence[ThemeCard],
                      matrix: pd.DataFrame, run_info: dict) -> str:
    """Return the report's summaries as Markdown: overview, one section per theme, and the matrix table.

    Same inputs as :func:`render_report` (the matrix table has the CSV's columns, :data:`NO_CODE`
    last); same inputs give the same string.
    """
    overview = _overview(units, assignments, cards)
    lines = [
        "# 자문위원 권고 주제 분석", "",
        f"- 회차: {_md(', '.join(overview['rounds']) or '-')}",
        f"- 원문: {_md(', '.join(overview['sources']) or '-')}",
        f"- 권고 {overview['units']}건 · 주제 {overview['themes']}개 · 위원 {overview['members']}명 · "
        f"미분류 {overview['unassigned']}건",
    ]
    if "seed" in run_info:
        lines.append(f"- 시드: {_md(run_info['seed'])}")
    by_rec = {u.rec_id: u for u in units}
    lines += ["", *_new_themes_md(cards, by_rec), "## 주제별 요약", ""]
    for card in cards:
        share = card.size / max(len(units), 1)
        lines += [
            f"### {_md(card.label)} ({SOURCE_BADGES.get(card.source, card.source)}, {card.size}건, {share:.0%})", "",
            f"- 핵심어: {_md(', '.join(card.keywords)) or '-'}",
            f"- 위원: {', '.join(f'{_md(n)} {c}건' for n, c in card.member_counts) or '-'}",
            f"- 안건: {', '.join(f'{_md(n)} {c}건' for n, c in card.agenda_counts) or '-'}",
            f"- 사업: {', '.join(f'{_md(n)} {c}건' for n, c in card.program_counts) or '-'}",
            "",
        ]
        for u in (by_rec[r] for r in card.representative_rec_ids if r in by_rec):
            lines += [f"> {_md(_quote_text(u.text))}  ", f"> — {_md(member_name(u))}, {_md(u.rec_id)}", ""]
    lines += ["## 주제 × 사업 코드", ""]
    codes = [str(c) for c in matrix.columns]
    rows = _matrix_rows(matrix)
    if rows and codes:
        lines.append("| 주제 | " + " | ".join(_md(c) for c in codes) + " |")
        lines.append("|---|" + "---:|" * len(codes))
        for _, label, values in rows:
            lines.append(f"| {_md(label)} | " + " | ".join(str(v) if v else "" for v in values) + " |")
    else:
        lines.append("표시할 주제가 없습니다.")
    return "\n".join(lines) + "\n"


def _new_themes_md(cards: Sequence[ThemeCard], by_rec: dict[str, Unit]) -> list[str]:
    """summary.md's first section: what is new this round (the new-theme candidates: who raised them,
    which programs they concern, their most central unit), or that nothing is."""
    new = _new_theme_cards(cards)
    lines = ["## 이번 회차의 새 주제", ""]
    if not new:
        return [*lines, NO_CANDIDATES if _codebook_mode(cards) else NO_CODEBOOK, ""]
    lines += [f"코드북 주제에 맞지 않는 권고가 모인 새 주제 후보 {len(new)}개 (권고 {sum(c.size for c in new)}건). "
              "이름을 붙여 코드북에 더하려면 `advisory codebook promote`.", ""]
    for card in new:
        lines += [
            f"### {_md(card.label)} ({_md(card.theme_id)}, {card.size}건)", "",
            f"- 핵심어: {_md(', '.join(card.keywords)) or '-'}",
            f"- 제기한 위원: {', '.join(f'{_md(n)} {c}건' for n, c in card.member_counts) or '-'}",
            f"- 관련 사업: {', '.join(f'{_md(n)} {c}건' for n, c in card.program_counts) or '-'}",
            "",
        ]
        lines += [f"> {_md(_quote_text(by_rec[r].text))}" for r in card.representative_rec_ids[:1] if r in by_rec]
        lines.append("")
    return lines
