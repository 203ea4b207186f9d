"""The archive's trend report: one self-contained, offline HTML page.

A round filter (checkboxes), the theme × round matrix (count and share per cell; shares of
rounds under 20 units carry a ※ caution) whose cells list their units, and the program ×
round counts. Styles and script are inline, the units are embedded as JSON that cannot close
its ``<script>`` element, every document text is escaped, and the script only sets ``textContent``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from pipeline.archive.rounds import SMALL_ROUND, TrendTables

_CAUTION = f"권고 {SMALL_ROUND}건 미만 회차: 비중이 한두 건에 크게 흔들리므로 해석에 주의"

_STYLE = """
body{font-family:'NanumGothic','Malgun Gothic','Apple SD Gothic Neo',sans-serif;margin:24px;color:#1a202c}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
.note{color:#744210;background:#fefcbf;padding:6px 10px;border-radius:4px;display:inline-block}
#round-filter{border:1px solid #cbd5e0;padding:8px 12px;margin:12px 0}
#round-filter label{margin-right:12px;white-space:nowrap;display:inline-block}
.wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #e2e8f0;padding:4px 6px;text-align:center}
th.theme{text-align:left;white-space:nowrap}
th.small,td.small{background:#fffaf0}
button.cell{border:0;background:none;cursor:pointer;font:inherit;min-width:48px;padding:2px}
button.cell:hover{background:#ebf8ff}
td.active{outline:2px solid #2b6cb0}
.share{display:block;color:#4a5568;font-size:11px}
.caution{color:#c05621;font-weight:bold}
#unit-list li{margin:8px 0;line-height:1.5}
.meta{color:#718096;font-size:12px}
"""

_SCRIPT = """
const data = JSON.parse(document.getElementById('data').textContent);
const list = document.getElementById('unit-list');
function setRound(col, on) {
  document.querySelectorAll('[data-col="' + col + '"]').forEach(el => { el.hidden = !on; });
}
document.querySelectorAll('input.round-toggle').forEach(box => {
  box.addEventListener('change', () => setRound(box.value, box.checked));
});
function setAll(on) {
  document.querySelectorAll('input.round-toggle').forEach(box => { box.checked = on; setRound(box.value, on); });
}
document.getElementById('rounds-all').addEventListener('click', () => setAll(true));
document.getElementById('rounds-none').addEventListener('click', () => setAll(false));
function show(button) {
  document.querySelectorAll('td.active').forEach(td => td.classList.remove('active'));
  button.parentElement.classList.add('active');
  const round = Number(button.dataset.round), theme = button.dataset.theme;
  const units = data.units.filter(u => u[0] === round && u[1] === theme);
  const total = Number(button.dataset.count);
  document.getElementById('units-title').textContent =
    data.themes[theme] + ' · ' + data.rounds[round].name + ' (' + total + '건)';
  document.getElementById('units-more').textContent = total > units.length
    ? '처음 ' + units.length + '건만 표시합니다. 전체는 archive 파일에서 SQL로 조회하세요.' : '';
  list.replaceChildren();
  units.forEach(u => {
    const li = document.createElement('li');
    li.dataset.rec = u[2];
    const text = document.createElement('div');
    text.textContent = u[6];
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = [u[3], u[4], u[5], u[7] ? '사업 ' + u[7] : '', u[2]].filter(Boolean).join(' · ');
    li.append(text, meta);
    list.append(li);
  });
  document.getElementById('shown-count').textContent = String(units.length);
}
document.querySelectorAll('button.cell').forEach(b => b.addEventListener('click', () => show(b)));
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _embedded_json(payload: object) -> str:
    """JSON that cannot end its ``<script>`` element early, whatever the document text contains."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _member(number: int | None, label: str | None) -> str:
    """``위원 2 (△△△)`` as in the run report; members are numbered within their round."""
    if number is None:
        return "위원 미상"
    label = (label or "").strip().removesuffix("위원").strip()
    return f"위원 {int(number)}" + (f" ({label})" if label else "")


def _round_head(i: int, r) -> str:
    small = bool(r.small_round)
    mark = f' <span class="caution" title="{_e(_CAUTION)}">※</span>' if small else ""
    date = f"<br><span class=\"meta\">{_e(r.round_date)}</span>" if r.round_date else ""
    return (f'<th data-col="{i}" class="{"small" if small else ""}">{_e(r.round_name)}{date}'
            f'<br><span class="meta">n={int(r.n_units)}</span>{mark}</th>')


def _theme_matrix(tables: TrendTables) -> str:
    rounds = list(tables.rounds.itertuples(index=False))
    cells = tables.theme_by_round.set_index(["theme_id", "round_name"])
    head = "".join(_round_head(i, r) for i, r in enumerate(rounds))
    body = []
    for t in tables.themes.itertuples(index=False):
        row = [f'<th class="theme">{_e(t.theme_label)}</th>']
        for i, r in enumerate(rounds):
            cell = cells.loc[(t.theme_id, r.round_name)]
            count, share = int(cell["count"]), float(cell["share"])
            small = bool(r.small_round)
            mark = '<span class="caution">※</span>' if small else ""
            row.append(f'<td data-col="{i}" class="{"small" if small else ""}">'
                       f'<button class="cell" data-theme="{_e(t.theme_id)}" data-round="{i}" data-count="{count}">'
                       f'{count}<span class="share">{share * 100:.1f}%{mark}</span></button></td>')
        body.append("<tr>" + "".join(row) + "</tr>")
    return (f'<div class="wrap"><table class="matrix" id="theme-matrix"><thead><tr><th>주제</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _program_matrix(tables: TrendTables) -> str:
    rounds = list(tables.rounds.itertuples(index=False))
    counts = tables.program_by_round.pivot(index="program_code", columns="round_name", values="count")
    head = "".join(_round_head(i, r) for i, r in enumerate(rounds))
    body = []
    for code in dict.fromkeys(tables.program_by_round["program_code"]):
        row = "".join(f'<td data-col="{i}">{int(counts.loc[code, r.round_name])}</td>' for i, r in enumerate(rounds))
        body.append(f'<tr><th class="theme">{_e(code)}</th>{row}</tr>')
    return (f'<div class="wrap"><table class="matrix" id="program-matrix"><thead><tr><th>사업 코드</th>{head}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table></div>')


def _new_theme_table(tables: TrendTables) -> str:
    """Each round's new-theme candidates, rounds in order: when a concern the codebook lacks first appeared."""
    frame = tables.new_themes
    if frame.empty:
        return '<p class="meta" id="no-new-themes">어느 회차에도 코드북에 없는 새 주제 후보가 없습니다.</p>'
    rows = "".join(
        f'<tr><td>{_e(r.round_name)}</td><th class="theme">{_e(r.theme_label)}</th>'
        f'<td>{int(r.size)} ({float(r.share) * 100:.1f}%)</td><td>{_e(str(r.keywords).replace(";", ", "))}</td>'
        f'<td>{_e(str(r.members).replace(";", ", "))}</td><td>{_e(str(r.program_codes).replace(";", ", "))}</td></tr>'
        for r in frame.fillna("").itertuples(index=False))
    return ('<div class="wrap"><table class="matrix" id="new-theme-table"><thead><tr><th>회차</th><th>새 주제 후보</th>'
            '<th>권고 수</th><th>핵심어</th><th>위원</th><th>사업 코드</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div>')


def render_trends_report(tables: TrendTables, units: Sequence[tuple], per_cell: int, archive_name: str) -> str:
    """The report page as a string.

    ``units``: the rows listed behind the cells, as tuples ``(round_name, theme_id, rec_id, member,
    member_label, agenda, question, text, program_codes)``; ``per_cell``: at most how many per cell.
    """
    round_index = {name: i for i, name in enumerate(tables.rounds["round_name"])}
    payload = {
        "rounds": [{"name": r.round_name, "n": int(r.n_units), "small": bool(r.small_round)}
                   for r in tables.rounds.itertuples(index=False)],
        "themes": dict(zip(tables.themes["theme_id"], tables.themes["theme_label"], strict=True)),
        "units": [[round_index[round_name], theme_id, rec_id, _member(member, member_label), agenda or "",
                   question or "", text, codes or ""]
                  for round_name, theme_id, rec_id, member, member_label, agenda, question, text, codes in units],
    }
    boxes = "".join(f'<label><input type="checkbox" class="round-toggle" value="{i}" checked> {_e(name)}</label>'
                    for i, name in enumerate(tables.rounds["round_name"]))
    small = tables.rounds.loc[tables.rounds["small_round"] == 1, "round_name"].tolist()
    caution = (f'<p class="note" id="small-note">※ {_e(_CAUTION)}: {_e(", ".join(small))}</p>' if small else "")
    n_units = int(tables.rounds["n_units"].sum())
    return f"""<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><title>회차별 주제 추이</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>
<body>
<h1>회차별 주제 추이</h1>
<p class="meta">{_e(archive_name)} · 회차 {len(tables.rounds)}개 · 권고 {n_units}건 ·
셀마다 건수와 그 회차 권고 중 비중(%)을 표시합니다. 셀을 누르면 해당 권고가 아래에 나옵니다
(셀당 최대 {per_cell}건).</p>
{caution}
<fieldset id="round-filter"><legend>회차 선택</legend>{boxes}
<button type="button" id="rounds-all">전체 선택</button> <button type="button" id="rounds-none">전체 해제</button>
</fieldset>
<h2>주제 × 회차</h2>
{_theme_matrix(tables)}
<section id="units"><h2 id="units-title">셀을 누르면 해당 권고가 표시됩니다</h2>
<p class="meta">표시 <span id="shown-count">0</span>건 <span id="units-more"></span></p>
<ol id="unit-list"></ol></section>
<h2>회차별 새 주제 후보 (코드북에 없던 주제가 처음 나온 회차)</h2>
{_new_theme_table(tables)}
<h2>사업 코드 × 회차 (권고 수)</h2>
{_program_matrix(tables)}
<script type="application/json" id="data">{_embedded_json(payload)}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
