"""The researcher-facing report: one self-contained HTML page and the same summaries as Markdown.

The HTML has no external resources (no CDN, web fonts or images): styles and script
are inline and the unit data is embedded as JSON, so the file can be mailed or opened
offline. Every piece of text from the documents is escaped; the script only ever sets
``textContent``.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from pipeline.programs import program_code_key
from pipeline.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, Theme, Unit

SOURCE_BADGES: dict[str, str] = {"codebook": "코드북", "discovered": "발견", UNASSIGNED_ID: "미분류"}
QUOTES_PER_THEME = 3
_QUOTE_CHARS = 220
_NO_CODE = "__none__"


def member_name(unit: Unit, with_round: bool = False) -> str:
    """Display name of a unit's member: ``위원 2 (△△△)``; masked labels alone cannot tell members apart.

    Members are numbered per round, so with ``with_round`` (runs over several rounds)
    the round is prefixed: ``2024_자문 · 위원 2 (△△△)``.
    """
    if unit.member is None:
        name = "위원 미상"
    else:
        label = unit.member_label.strip()
        label = label[: -len("위원")].strip() if label.endswith("위원") else label
        name = f"위원 {unit.member}" + (f" ({label})" if label else "")
    return f"{unit.round} · {name}" if with_round else name


def _several_rounds(units: Sequence[Unit]) -> bool:
    return len({u.round for u in units}) > 1


@dataclass(frozen=True)
class ThemeSummary:
    """What a theme card shows, computed from the units actually assigned to the theme."""

    theme_id: str
    label: str
    source: str
    size: int
    share: float
    keywords: tuple[str, ...]
    quotes: tuple[Unit, ...]
    members: tuple[tuple[str, int], ...]
    agendas: tuple[tuple[str, int], ...]
    programs: tuple[tuple[str, int], ...]


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


def theme_summaries(units: Sequence[Unit], assignments: Sequence[Assignment],
                    themes: Sequence[Theme]) -> list[ThemeSummary]:
    """One summary per theme, in the given order.

    Quotes are the theme's representative units, topped up with its highest-scoring
    units until there are three; members, agendas and program codes are counted over
    the theme's units (most frequent first, ties in document order / code order).
    """
    assigned = _assigned(units, assignments)
    by_rec = {u.rec_id: u for u in units}
    total = max(len(units), 1)
    with_round = _several_rounds(units)
    summaries = []
    for t in themes:
        mine = [u for u in units if assigned[u.rec_id][0] == t.theme_id]
        quotes = [by_rec[r] for r in t.representative_rec_ids if r in by_rec][:QUOTES_PER_THEME]
        for u in sorted(mine, key=lambda u: -assigned[u.rec_id][3]):
            if len(quotes) >= QUOTES_PER_THEME:
                break
            if u not in quotes:
                quotes.append(u)
        # Keyed with the member number first so equal counts list members in their numeric order.
        members = Counter((u.round, u.member is None, u.member or 0, member_name(u, with_round)) for u in mine)
        agendas = Counter(u.agenda or "(안건 없음)" for u in mine)
        agenda_order = {a: i for i, a in enumerate(dict.fromkeys(u.agenda or "(안건 없음)" for u in units))}
        programs = Counter(code for u in mine for code in u.program_codes)
        summaries.append(ThemeSummary(
            theme_id=t.theme_id, label=t.label, source=t.source, size=len(mine), share=len(mine) / total,
            keywords=tuple(t.keywords), quotes=tuple(quotes),
            members=tuple((key[3], n) for key, n in sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))),
            agendas=tuple(sorted(agendas.items(), key=lambda kv: (-kv[1], agenda_order[kv[0]]))),
            programs=tuple(sorted(programs.items(), key=lambda kv: (-kv[1], program_code_key(kv[0])))),
        ))
    return summaries


def _overview(units: Sequence[Unit], assignments: Sequence[Assignment], themes: Sequence[Theme]) -> dict:
    """Header facts: rounds, sources and counts."""
    assigned = _assigned(units, assignments)
    return {
        "rounds": list(dict.fromkeys(u.round for u in units)),
        "sources": list(dict.fromkeys(u.source for u in units)),
        "units": len(units),
        "themes": len(themes),
        "members": len({(u.round, u.member) for u in units if u.member is not None}),
        "unassigned": sum(1 for v in assigned.values() if v[0] == UNASSIGNED_ID),
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


def _embedded_json(payload: object) -> str:
    """JSON that cannot end its ``<script>`` element early, whatever the document text contains."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _header_html(overview: dict, run_info: dict) -> str:
    facts = [
        ("회차", ", ".join(overview["rounds"]) or "-"),
        ("원문", ", ".join(overview["sources"]) or "-"),
        ("권고", f"{overview['units']}건"),
        ("주제", f"{overview['themes']}개"),
        ("위원", f"{overview['members']}명"),
        ("미분류", f"{overview['unassigned']}건"),
    ]
    if "seed" in run_info:
        facts.append(("시드", str(run_info["seed"])))
    items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    params = run_info.get("parameters")
    details = ""
    if isinstance(params, dict) and params:
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in sorted(params.items()))
        details = f"<details><summary>분석 설정</summary><table class=\"params\">{rows}</table></details>"
    return (f"<header><h1>자문위원 권고 주제 분석</h1><dl class=\"facts\">{items}</dl>{details}"
            "<nav><a href=\"#themes\">주제</a><a href=\"#matrix\">주제×사업</a><a href=\"#units\">권고 목록</a></nav>"
            "</header>")


def _card_html(s: ThemeSummary) -> str:
    badge = SOURCE_BADGES.get(s.source, s.source)
    keywords = "".join(f"<span class=\"chip\">{_e(k)}</span>" for k in s.keywords) or "<span class=\"muted\">-</span>"
    quotes = "".join(
        f"<blockquote>{_e(_quote_text(u.text))}<footer>{_e(member_name(u))} · {_e(u.rec_id)}</footer></blockquote>"
        for u in s.quotes) or "<p class=\"muted\">해당 권고 없음</p>"

    def counted(pairs: tuple[tuple[str, int], ...], cls: str = "") -> str:
        if not pairs:
            return "<span class=\"muted\">-</span>"
        return "".join(f"<span class=\"chip {cls}\">{_e(name)} <b>{n}</b></span>" for name, n in pairs)

    return (
        f"<article class=\"card\" data-theme=\"{_e(s.theme_id)}\">"
        f"<h3>{_e(s.label)} <span class=\"badge badge-{_e(s.source)}\">{_e(badge)}</span></h3>"
        f"<p class=\"size\"><b>{s.size}</b>건 · {s.share:.0%}</p>"
        f"<div class=\"row\"><span class=\"k\">핵심어</span>{keywords}</div>"
        f"{quotes}"
        f"<div class=\"row\"><span class=\"k\">위원</span>{counted(s.members)}</div>"
        f"<div class=\"row\"><span class=\"k\">안건</span>{counted(s.agendas)}</div>"
        f"<div class=\"row\"><span class=\"k\">사업</span>{counted(s.programs, 'code')}</div>"
        f"<button type=\"button\" class=\"show-theme\" data-theme=\"{_e(s.theme_id)}\">이 주제의 권고 보기</button>"
        "</article>"
    )


def _program_names(run_info: dict) -> dict[str, str]:
    """Program code -> name, from ``run_info["programs"]`` (the registry the run used), if given."""
    return {str(k): str(v) for k, v in (run_info.get("programs") or {}).items()}


def _matrix_html(matrix: pd.DataFrame, sizes: dict[str, int], names: dict[str, str]) -> str:
    codes = [str(c) for c in matrix.columns]
    rows = _matrix_rows(matrix)
    peak = max([1, *(v for _, _, values in rows for v in values)])
    head = "".join(f"<th scope=\"col\" title=\"{_e(names.get(c, c))}\">{_e(c)}</th>" for c in codes)
    body = []
    for theme_id, label, values in rows:
        cells = []
        for code, v in zip(codes, values, strict=True):
            if v:
                cells.append(f"<td style=\"--v:{v / peak:.3f}\"><button type=\"button\" class=\"cell\" "
                             f"data-theme=\"{_e(theme_id)}\" data-code=\"{_e(code)}\" "
                             f"title=\"{_e(label)} × {_e(code)}: {v}건\">{v}</button></td>")
            else:
                cells.append("<td class=\"zero\"></td>")
        body.append(f"<tr><th scope=\"row\"><button type=\"button\" class=\"rowhead\" data-theme=\"{_e(theme_id)}\">"
                    f"{_e(label)}</button></th><td class=\"total\">{sizes.get(theme_id, 0)}</td>{''.join(cells)}</tr>")
    if not rows:
        return "<p class=\"muted\">표시할 주제가 없습니다.</p>"
    return (f"<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th>주제</th><th>권고 수</th>{head}</tr>"
            f"</thead><tbody>{''.join(body)}</tbody></table></div>")


def _options(pairs: list[tuple[str, str]], all_label: str) -> str:
    return f"<option value=\"\">{_e(all_label)}</option>" + "".join(
        f"<option value=\"{_e(v)}\">{_e(label)}</option>" for v, label in pairs)


def _filters_html(units: Sequence[Unit], themes: Sequence[Theme], has_unassigned: bool,
                  names: dict[str, str]) -> str:
    with_round = _several_rounds(units)
    members = sorted({(u.round, u.member is None, u.member or 0, member_name(u, with_round)) for u in units})
    member_opts = [(key[3], key[3]) for key in members]
    agendas = [(a, a) for a in dict.fromkeys(u.agenda for u in units)]
    codes = [(c, f"{c} {names[c]}" if c in names else c)
             for c in sorted({c for u in units for c in u.program_codes}, key=program_code_key)]
    if any(not u.program_codes for u in units):
        codes.append((_NO_CODE, "(사업 코드 없음)"))
    theme_opts = [(t.theme_id, t.label) for t in themes]
    if has_unassigned:
        theme_opts.append((UNASSIGNED_ID, UNASSIGNED_LABEL))
    return (
        "<form class=\"filters\" id=\"filters\" onsubmit=\"return false\">"
        f"<label>위원<select id=\"f-member\">{_options(member_opts, '전체 위원')}</select></label>"
        f"<label>안건<select id=\"f-agenda\">{_options(agendas, '전체 안건')}</select></label>"
        f"<label>사업<select id=\"f-program\">{_options(codes, '전체 사업')}</select></label>"
        f"<label>주제<select id=\"f-theme\">{_options(theme_opts, '전체 주제')}</select></label>"
        "<label class=\"grow\">검색<input type=\"search\" id=\"f-search\" placeholder=\"권고 내용·질문 검색\" "
        "autocomplete=\"off\"></label>"
        "<button type=\"button\" id=\"f-reset\">초기화</button>"
        "</form>"
        f"<p class=\"count\" aria-live=\"polite\">표시 <b id=\"shown-count\">{len(units)}</b> / 전체 "
        f"<span id=\"total-count\">{len(units)}</span>건</p>"
    )


def _units_payload(units: Sequence[Unit], assignments: Sequence[Assignment]) -> list[dict]:
    assigned = _assigned(units, assignments)
    with_round = _several_rounds(units)
    return [{
        "rec_id": u.rec_id, "member": member_name(u, with_round), "agenda": u.agenda, "question": u.question,
        "text": u.text,
        "theme_id": assigned[u.rec_id][0], "theme_label": assigned[u.rec_id][1],
        "theme_source": assigned[u.rec_id][2], "codes": list(u.program_codes),
        "lines": f"{u.line_start}-{u.line_end}",
    } for u in units]


_CSS = """
:root{--ink:#1a202c;--muted:#718096;--line:#e2e8f0;--accent:#2b6cb0;--bg:#f7fafc}
*{box-sizing:border-box}
body{margin:0;font-family:"Noto Sans KR","Apple SD Gothic Neo","Malgun Gothic","NanumGothic",sans-serif;
color:var(--ink);background:var(--bg);line-height:1.55}
header,main{max-width:1200px;margin:0 auto;padding:16px 20px}
header{background:#fff;border-bottom:1px solid var(--line);max-width:none}
header>*{max-width:1160px;margin-left:auto;margin-right:auto}
h1{font-size:1.5rem;margin:.2rem auto .6rem}
h2{font-size:1.2rem;margin:1.6rem 0 .6rem;border-left:4px solid var(--accent);padding-left:.5rem}
.facts{display:flex;flex-wrap:wrap;gap:.4rem 1.4rem;margin:0 auto .4rem}
.facts div{display:flex;gap:.4rem}.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:600}
nav{display:flex;gap:1rem;margin-top:.4rem}nav a{color:var(--accent);text-decoration:none}
details{margin:.3rem auto;font-size:.9rem}.params th{text-align:left;padding-right:1rem;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card h3{margin:0;font-size:1.05rem}.size{margin:.2rem 0 .5rem;color:var(--muted)}
.badge{font-size:.72rem;padding:1px 7px;border-radius:9px;vertical-align:middle;background:#edf2f7}
.badge-codebook{background:#ebf8ff;color:#2c5282}.badge-discovered{background:#faf5ff;color:#553c9a}
.row{display:flex;flex-wrap:wrap;gap:4px;align-items:center;margin:.35rem 0}
.k{color:var(--muted);font-size:.85rem;width:3rem;flex:none}
.chip{display:inline-block;background:#edf2f7;border-radius:4px;padding:0 6px;font-size:.85rem}
.chip.code{background:#e6fffa}
blockquote{margin:.4rem 0;padding:.3rem .6rem;border-left:3px solid #cbd5e0;background:#fafafa;font-size:.9rem}
blockquote footer{color:var(--muted);font-size:.78rem}
.muted{color:var(--muted)}
button{font:inherit;cursor:pointer}
.show-theme,#f-reset{margin-top:.4rem;border:1px solid var(--accent);color:var(--accent);background:#fff;
border-radius:5px;padding:2px 10px}
.scroll{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px}
.matrix{border-collapse:collapse;font-size:.85rem}
.matrix th,.matrix td{border:1px solid var(--line);padding:0;text-align:center;min-width:2.6rem}
.matrix thead th{padding:4px;white-space:nowrap;background:#f1f5f9}
.matrix th[scope=row]{text-align:left;white-space:nowrap}
.matrix td{background:rgba(43,108,176,calc(var(--v,0)*.85))}
.matrix td.total{background:#f8fafc;font-weight:600;padding:4px}
.matrix button{border:0;background:none;width:100%;padding:4px 6px;color:inherit;font-weight:600}
.matrix button.rowhead{text-align:left;font-weight:400}
.matrix td.active{outline:3px solid #dd6b20;outline-offset:-3px}
.filters{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end;background:#fff;padding:10px;
border:1px solid var(--line);border-radius:8px;position:sticky;top:0;z-index:1}
.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
.filters .grow{flex:1;min-width:200px}
.filters select,.filters input{font:inherit;font-size:.9rem;padding:3px;max-width:260px;color:var(--ink)}
.filters input{max-width:none}
.count{margin:.5rem 0}
#unit-list{list-style:none;padding:0;margin:0}
#unit-list li{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin-bottom:8px}
#unit-list .meta{font-size:.8rem;color:var(--muted)}
#unit-list .text{white-space:pre-wrap;margin:.25rem 0}
#unit-list .q{font-size:.82rem;color:#4a5568}
"""

_JS = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var byId = function (id) { return document.getElementById(id); };
  var f = {member: byId("f-member"), agenda: byId("f-agenda"), program: byId("f-program"),
           theme: byId("f-theme"), search: byId("f-search")};
  var list = byId("unit-list"), shown = byId("shown-count"), empty = byId("no-units");

  function span(cls, text) {
    var el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  var items = data.units.map(function (u) {
    var li = document.createElement("li");
    li.dataset.recId = u.rec_id;
    var meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = [u.rec_id, u.member, u.agenda, "행 " + u.lines].filter(Boolean).join(" · ");
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = u.text;
    var tags = document.createElement("div");
    tags.className = "row";
    tags.appendChild(span("badge badge-" + u.theme_source, u.theme_label));
    u.codes.forEach(function (c) { tags.appendChild(span("chip code", c)); });
    li.appendChild(meta);
    if (u.question) { li.appendChild(span("q", "[" + u.question + "]")); }
    li.appendChild(text);
    li.appendChild(tags);
    list.appendChild(li);
    var hay = [u.text, u.question, u.agenda, u.rec_id, u.theme_label, u.member].join(" ").toLowerCase();
    return {u: u, li: li, hay: hay};
  });

  function matches(u, hay, terms) {
    if (f.member.value && u.member !== f.member.value) { return false; }
    if (f.agenda.value && u.agenda !== f.agenda.value) { return false; }
    if (f.program.value === "__none__") {
      if (u.codes.length) { return false; }
    } else if (f.program.value && u.codes.indexOf(f.program.value) < 0) { return false; }
    if (f.theme.value && u.theme_id !== f.theme.value) { return false; }
    return terms.every(function (t) { return hay.indexOf(t) >= 0; });
  }

  function apply() {
    var terms = f.search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var n = 0;
    items.forEach(function (it) {
      var ok = matches(it.u, it.hay, terms);
      it.li.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
    empty.hidden = n > 0;
    document.querySelectorAll(".matrix td").forEach(function (td) {
      var b = td.querySelector("button.cell");
      td.classList.toggle("active", !!b && b.dataset.theme === f.theme.value &&
                                    b.dataset.code === f.program.value);
    });
  }

  function showList() { byId("units").scrollIntoView({behavior: "smooth", block: "start"}); }

  Object.keys(f).forEach(function (k) { f[k].addEventListener(k === "search" ? "input" : "change", apply); });
  byId("f-reset").addEventListener("click", function () {
    Object.keys(f).forEach(function (k) { f[k].value = ""; });
    apply();
  });
  document.querySelectorAll("button.cell").forEach(function (b) {
    b.addEventListener("click", function () {
      f.theme.value = b.dataset.theme;
      f.program.value = b.dataset.code;
      apply();
      showList();
    });
  });
  document.querySelectorAll("button.rowhead, button.show-theme").forEach(function (b) {
    b.addEventListener("click", function () {
      f.theme.value = b.dataset.theme;
      f.program.value = "";
      apply();
      showList();
    });
  });
  apply();
})();
"""


def render_report(units: Sequence[Unit], assignments: Sequence[Assignment], themes: Sequence[Theme],
                  matrix: pd.DataFrame, run_info: dict) -> str:
    """Return the self-contained Korean HTML report of one run.

    In: the run's units, assignments and themes, the theme × program matrix
    (:func:`pipeline.exporters.program_matrix`) and ``run_info`` (``seed`` and
    ``parameters`` are shown). Out: an HTML document with theme cards, the clickable
    matrix, and the unit list with member/agenda/program/theme filters and text search.
    Same inputs give the same string.
    """
    summaries = theme_summaries(units, assignments, themes)
    overview = _overview(units, assignments, themes)
    sizes = {s.theme_id: s.size for s in summaries}
    sizes[UNASSIGNED_ID] = overview["unassigned"]
    cards = "".join(_card_html(s) for s in summaries) or "<p class=\"muted\">주제가 없습니다.</p>"
    payload = {"units": _units_payload(units, assignments)}
    names = _program_names(run_info)
    return (
        "<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e('권고 주제 분석 · ' + ', '.join(overview['rounds']))}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"{_header_html(overview, run_info)}<main>"
        f"<section id=\"themes\"><h2>주제별 요약</h2><div class=\"cards\">{cards}</div></section>"
        "<section id=\"matrix\"><h2>주제 × 사업 코드</h2>"
        "<p class=\"muted\">칸을 누르면 해당 주제·사업의 권고만 아래 목록에 표시됩니다.</p>"
        f"{_matrix_html(matrix, sizes, names)}</section>"
        f"<section id=\"units\"><h2>권고 목록</h2>{_filters_html(units, themes, overview['unassigned'] > 0, names)}"
        "<noscript><p>목록과 필터를 보려면 자바스크립트를 켜 주세요.</p></noscript>"
        "<p id=\"no-units\" class=\"muted\" hidden>조건에 맞는 권고가 없습니다.</p>"
        "<ol id=\"unit-list\"></ol></section></main>"
        f"<script type=\"application/json\" id=\"report-data\">{_embedded_json(payload)}</script>"
        f"<script>{_JS}</script></body></html>\n"
    )


def _md(text: object) -> str:
    """Text safe inside a Markdown table cell or list item: one line, pipes and markup characters escaped.

    ``_`` is left alone: inside words (``2024_자문``) it never starts emphasis, and ids read better unescaped.
    """
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in "\\|*`[]<>" else ch for ch in flat)


def render_summary_md(units: Sequence[Unit], assignments: Sequence[Assignment], themes: Sequence[Theme],
                      matrix: pd.DataFrame, run_info: dict) -> str:
    """Return the report's summaries as Markdown: overview, one section per theme, and the matrix table.

    Same inputs as :func:`render_report`; same inputs give the same string.
    """
    overview = _overview(units, assignments, themes)
    lines = [
        "# 자문위원 권고 주제 분석", "",
        f"- 회차: {_md(', '.join(overview['rounds']) or '-')}",
        f"- 원문: {_md(', '.join(overview['sources']) or '-')}",
        f"- 권고 {overview['units']}건 · 주제 {overview['themes']}개 · 위원 {overview['members']}명 · "
        f"미분류 {overview['unassigned']}건",
    ]
    if "seed" in run_info:
        lines.append(f"- 시드: {_md(run_info['seed'])}")
    lines += ["", "## 주제별 요약", ""]
    for s in theme_summaries(units, assignments, themes):
        lines += [
            f"### {_md(s.label)} ({SOURCE_BADGES.get(s.source, s.source)}, {s.size}건, {s.share:.0%})", "",
            f"- 핵심어: {_md(', '.join(s.keywords)) or '-'}",
            f"- 위원: {', '.join(f'{_md(n)} {c}건' for n, c in s.members) or '-'}",
            f"- 안건: {', '.join(f'{_md(n)} {c}건' for n, c in s.agendas) or '-'}",
            f"- 사업: {', '.join(f'{_md(n)} {c}건' for n, c in s.programs) or '-'}",
            "",
        ]
        for u in s.quotes:
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
        lines.append("사업 코드가 있는 권고가 없습니다.")
    return "\n".join(lines) + "\n"
