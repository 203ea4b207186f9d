"""Opinion tables written as text: ``연번 | 위원 | 분야 | 의견 | 반영 여부``, one row per line.

A secretariat often compiles a round as a table, one opinion per row, beside the department's answer. In a
text file (a table copied from a spreadsheet, or exported as Markdown) its rows are lines whose cells are
separated by ``|`` or tabs. Read line by line, the whole table ran together into one unit, and no opinion
was a unit of its own. :func:`read_tables` finds such a table by its header row, one that names an opinion
column (``의견``, ``제안``, ``건의``, ``권고``, ``내용``, ``요지``), and reads it row by row, as a reader reads
an outline:

* the opinion cell is a recommendation (``rec``);
* the member cell (``위원``, ``성명``) is a member heading; a blank one is the member above (a merged cell);
* the field cell (``분야``, ``사업``, ``구분``, ``안건``) is an agenda heading, carried down the same way;
* the number cell (``연번``, ``번호``) is structure, as ``1.`` is; a row without a number, member or field
  whose opinion cell has words continues the opinion above (a cell that wrapped over two rows);
* every other cell (``반영 여부``, ``조치계획``, ``비고``) is the department's, not the member's: it is in no unit,
  and is listed as unplaced with its column's name (``반영 여부: 검토``), as is the header row itself.

The opinion open at the end of a table closes there: a note under the table (``※ 반영 여부는 …``) is not the
last row's. A table without an opinion column (a budget, a schedule) is left as it was: its lines are text. A Markdown
rule row (``|---|:--:|``) is structure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.core.records import Line
from pipeline.read.markers import Classified

# Column roles by the header's words, tested in this order: "검토 의견" is the department's answer, "위원 의견"
# an opinion, "자문위원" a member.
_ROLES = (
    ("answer", re.compile(r"반영|조치|답변|검토|처리|결과|비고|회신|계획")),
    ("opinion", re.compile(r"의견|제안|건의|권고|내용|요지|지적|발언")),
    ("member", re.compile(r"위원|성명|이름|제안자|발언자")),
    ("field", re.compile(r"분야|사업|구분|안건|부문|과제|프로그램|주제")),
    ("number", re.compile(r"^(?:연번|번호|순번|순|no\.?|#)$", re.IGNORECASE)),
)
# A header cell is a column's name, not a sentence.
_HEADER_CELL = 20
_RULE_CELL = re.compile(r"^:?-{3,}:?$")


@dataclass
class _Table:
    """The columns of one table by role (index of each), and what is carried down its rows."""

    sep: str
    outer: bool
    width: int
    names: list[str]
    roles: dict[str, int]
    last: dict[str, str] = field(default_factory=dict)

    def cell(self, cells: Sequence[str], role: str) -> str:
        return cells[self.roles[role]] if role in self.roles else ""


def split_row(text: str, sep: str, outer: bool = False) -> list[str]:
    """The cells of one row, stripped; with ``outer``, the row's first and last pipes are not cells (Markdown)."""
    # Leading and trailing tabs are empty cells (a continued row, ``\t\t…``), not indentation.
    body = text.strip() if sep == "|" else text.strip(" \r\n")
    if outer:
        body = body.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in body.split(sep)]


def _outer(text: str) -> bool:
    """Whether a header row is written with outer pipes, as Markdown writes a table: ``| 연번 | 의견 |``."""
    body = text.strip()
    return len(body) > 1 and body[0] == body[-1] == "|"


def _separator(text: str) -> str | None:
    """The separator of a line that can be a row of two cells or more: ``|`` or a tab."""
    for sep in ("|", "\t"):
        if len(split_row(text, sep, sep == "|" and _outer(text))) >= 2:
            return sep
    return None


def _header(text: str) -> _Table | None:
    """The table a header row opens, or None: short cells, one of them an opinion column (module docstring)."""
    sep = _separator(text)
    if sep is None:
        return None
    outer = sep == "|" and _outer(text)
    names = split_row(text, sep, outer)
    if any(len(name) > _HEADER_CELL for name in names):
        return None
    roles: dict[str, int] = {}
    for index, name in enumerate(names):
        squashed = "".join(name.split())
        role = next((role for role, pattern in _ROLES if pattern.search(squashed)), "answer")
        if role != "answer":
            roles.setdefault(role, index)
    # Two columns are a table only as ``위원 | 의견``: a line with one ``|`` in it is more often just text.
    if "opinion" not in roles or (len(names) == 2 and len(roles) < 2):
        return None
    return _Table(sep, outer, len(names), names, roles)


def opinion_table_rows(rows: Sequence[Sequence[str]]) -> list[str] | None:
    """A table of a document format (HWPX, DOCX) as text rows, one line per row with its cells between tabs,
    when its first row is an opinion table's header (:func:`read_tables` then reads it row by row); None for
    any other table, whose cells the reader gives one paragraph each, as before.

    In: the table's rows of cell texts, a merged cell's place kept by an empty cell."""
    width = max(map(len, rows), default=0)
    lines = ["\t".join(" ".join(cell.split()) for cell in [*row, *[""] * (width - len(row))]) for row in rows]
    if not lines or _header(lines[0]) is None or _header(lines[0]).sep != "\t":
        return None
    return lines


def read_tables(lines: Sequence[Line], classified: Sequence[Classified]
                ) -> tuple[list[Line], list[Classified], list[tuple[int, str]]]:
    """``lines`` and their kinds with each opinion table read row by row (module docstring).

    Out: the lines and kinds the parser walks (a row gives one entry per heading and opinion it holds, each
    a :class:`Line` of the row's number holding that cell), and the (line number, text) of each header row
    and each cell that is in no unit.
    """
    out_lines: list[Line] = []
    out_kinds: list[Classified] = []
    cells_out: list[tuple[int, str]] = []
    table: _Table | None = None
    for line, c in zip(lines, classified, strict=True):
        if table is not None and not line.text.strip():
            out_lines.append(line)
            out_kinds.append(c)
            continue
        if table is not None:
            cells = split_row(line.text, table.sep, table.outer) if table.sep in line.text else []
            if len(cells) >= table.width:
                _row(table, line, cells, out_lines, out_kinds, cells_out)
                continue
            # The table ends: what follows (a note on the table) is not the last opinion's.
            out_lines.append(Line("", line.number, line.page))
            out_kinds.append(Classified("end", ""))
            table = None
        table = _header(line.text)
        if table is None:
            out_lines.append(line)
            out_kinds.append(c)
            continue
        cells_out.append((line.number, line.text.strip()))
        out_lines.append(line)
        out_kinds.append(Classified("blank", ""))
    return out_lines, out_kinds, cells_out


def _row(table: _Table, line: Line, cells: list[str], out_lines: list[Line], out_kinds: list[Classified],
         cells_out: list[tuple[int, str]]) -> None:
    """One data row of ``table`` as the parser's entries (module docstring)."""
    if len(cells) > table.width:
        # A ``|`` inside the opinion: the extra cells are the opinion's.
        extra = len(cells) - table.width
        at = table.roles["opinion"]
        cells = [*cells[:at], f" {table.sep} ".join(cells[at:at + extra + 1]), *cells[at + extra + 1:]]
    if all(_RULE_CELL.match(cell) or not cell for cell in cells):
        out_lines.append(line)
        out_kinds.append(Classified("blank", ""))
        return

    def emit(kind: str, text: str, mark: str = "") -> None:
        # The end of a cell is a word break: a wrapped opinion's next cell joins with a space.
        out_lines.append(Line(f"{text} ", line.number, line.page))
        out_kinds.append(Classified(kind, text, mark))

    opinion = table.cell(cells, "opinion")
    number, member, topic = (table.cell(cells, role) for role in ("number", "member", "field"))
    if opinion and not (number or member or topic) and "number" in table.roles and table.last:
        emit("text", opinion)
    else:
        new_member = bool(member) and member != table.last.get("member")
        if new_member:
            emit("member", member, "|")
            table.last["member"] = member
        topic = topic or table.last.get("field", "")
        if topic and (new_member or topic != table.last.get("field")):
            emit("agenda", topic, "|")
        table.last["field"] = topic
        table.last["number"] = number
        if opinion:
            emit("rec", opinion, "|")
    used = {table.roles[role] for role in ("number", "member", "field", "opinion") if role in table.roles}
    rest = [f"{table.names[i]}: {cell}" for i, cell in enumerate(cells) if i not in used and cell]
    if rest:
        cells_out.append((line.number, " · ".join(rest)))
    if not (opinion or member or topic or rest):
        out_lines.append(line)
        out_kinds.append(Classified("blank", ""))
