"""Opinion tables (``연번 | 위원 | 분야 | 의견 | 반영 여부``, one opinion per row), read row by row.

A secretariat often compiles a round as a table, one opinion per row, beside the department's answer. In a
text file (a table copied from a spreadsheet, or exported as Markdown) its rows are lines whose cells are
separated by ``|`` or tabs. Read line by line, the whole table ran together into one unit, and no opinion
was a unit of its own. :func:`read_tables` finds such a table by its header row, one that names an opinion
column (``의견``, ``제안``, ``건의``, ``권고``, ``요지``) whose cells read as sentences (half of them at least,
:func:`pipeline.read.wrapping.is_prose`), and reads it row by row, as a reader reads an outline:

* the opinion cell is a recommendation (``rec``), or one per ``ㅇ`` paragraph when a cell of a document's
  table holds several (:data:`CELL_BREAK`), its dash and note paragraphs their parts;
* the member cell (``위원``, ``성명``) is a member heading; a blank one is the member above (a merged cell);
* the field cell (``분야``, ``사업``, ``구분``, ``안건``) is an agenda heading, carried down the same way;
* the number cell (``연번``, ``번호``) is structure, as ``1.`` is; a row without a number, member or field
  whose opinion cell has words continues the opinion above (a cell that wrapped over two rows);
* every other cell (``반영 여부``, ``조치계획``, ``비고``) is the department's, not the member's: it is in no unit,
  and is listed as unplaced (``검토``, several cells of a row between ``|``), as is the header row that names
  their columns.

The opinion open at the end of a table closes there; a note right under the table (``※ 반영 여부는 …``) is the
table's, listed with its header row, not the last row's. A table without an opinion column (a budget, a
schedule) is left as it was: its lines are text. A Markdown rule row (``|---|:--:|``) is structure.

The readers of HWP, HWPX and DOCX give a table's cells one paragraph each; an opinion table's they give as
such text rows instead, its cells between tabs (:func:`opinion_table_rows`; :class:`RecordTables` for the
records of HWP 5.0), so every format's table is read here, the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.core.records import Line
from pipeline.read.markers import Classified, classify_line
from pipeline.read.wrapping import is_prose

# Column roles by the header's words, tested in this order: "검토 의견" is the department's answer, "위원 의견"
# an opinion, "자문위원" a member.
_ROLES = (
    ("answer", re.compile(r"반영|조치|답변|검토|처리|결과|비고|회신|계획")),
    # Not ``내용``: ``구분 | 내용`` heads most tables of a plan or a form.
    ("opinion", re.compile(r"의견|제안|건의|권고|요지|지적|발언")),
    ("member", re.compile(r"위원|성명|이름|제안자|발언자")),
    ("field", re.compile(r"분야|사업|구분|안건|부문|과제|프로그램|주제")),
    ("number", re.compile(r"^(?:연번|번호|순번|순|no\.?|#)$", re.IGNORECASE)),
)
#: Between the paragraphs of one cell in an opinion table's row (Unicode's line separator): a cell of the
#: readers' tables may hold several opinions, each its own ``ㅇ`` paragraph.
CELL_BREAK = "\u2028"
# A header cell is a column's name, not a sentence.
_HEADER_CELL = 20
_RULE_CELL = re.compile(r"^:?-{3,}:?$")


@dataclass
class _Table:
    """The columns of one table by role (index of each), and what is carried down its rows."""

    sep: str
    outer: bool
    width: int
    roles: dict[str, int]
    last: dict[str, str] = field(default_factory=dict)

    def cell(self, cells: Sequence[str], role: str) -> str:
        return cells[self.roles[role]] if role in self.roles and self.roles[role] < len(cells) else ""

    def split(self, text: str) -> list[str]:
        """The cells of one of the table's rows."""
        return split_row(text, self.sep, self.outer)


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
    if "|" not in text and "\t" not in text:  # most lines: no cell to split
        return None
    sep = _separator(text)
    if sep is None:
        return None
    outer = sep == "|" and _outer(text)
    names = [_flat(name) for name in split_row(text, sep, outer)]
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
    return _Table(sep, outer, len(names), roles)


def opinion_table_rows(rows: Sequence[Sequence[str]]) -> list[str] | None:
    """A table of a document format (HWP, HWPX, DOCX) as text rows, one line per row with its cells between tabs,
    when it is an opinion table (its first row an opinion table's header, its opinions sentences:
    :func:`read_tables` then reads it row by row); None for any other table, whose cells the reader gives one
    paragraph each, as before.

    In: the table's rows of cell texts, a merged cell's place kept by an empty cell."""
    width = max(map(len, rows), default=0)
    lines = ["\t".join(_tidy(cell) for cell in [*row, *[""] * (width - len(row))]) for row in rows]
    table = _header(lines[0]) if lines else None
    if table is None or table.sep != "\t" or not _holds_opinions(table, lines[1:]):
        return None
    return lines


def _tidy(cell: str) -> str:
    """A cell's paragraphs (line breaks included) with their spacing made single, between :data:`CELL_BREAK`."""
    paragraphs = cell.replace("\n", CELL_BREAK).split(CELL_BREAK)
    return CELL_BREAK.join(" ".join(p.split()) for p in paragraphs if p.strip())


def _flat(cell: str) -> str:
    """A cell as one line of text."""
    return cell.replace(CELL_BREAK, " ")


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
    i = 0
    while i < len(lines):
        table = _header(lines[i].text)
        end = _table_end(lines, i, table) if table is not None else i + 1
        if table is None or not _holds_opinions(table, [line.text for line in lines[i + 1:end]]):
            out_lines.append(lines[i])
            out_kinds.append(classified[i])
            i += 1
            continue
        cells_out.append((lines[i].number, _flat(lines[i].text.strip())))
        out_lines.append(lines[i])
        out_kinds.append(Classified("blank", ""))
        for line in lines[i + 1:end]:
            if line.text.strip():
                _row(table, line, table.split(line.text), out_lines, out_kinds, cells_out)
            else:
                out_lines.append(line)
                out_kinds.append(Classified("blank", ""))
        # A note right under the table (``※ 반영 여부는 …``) is about the table, not the last row's opinion.
        while end < len(lines) and (not lines[end].text.strip() or classified[end].kind == "note"):
            if lines[end].text.strip():
                cells_out.append((lines[end].number, _flat(lines[end].text.strip())))
            out_lines.append(lines[end])
            out_kinds.append(Classified("blank", ""))
            end += 1
        if end < len(lines):
            # The table ends: what follows is not the last opinion's.
            out_lines.append(Line("", lines[end].number, lines[end].page))
            out_kinds.append(Classified("end", ""))
        i = end
    return out_lines, out_kinds, cells_out


def _table_end(lines: Sequence[Line], header: int, table: _Table) -> int:
    """The index after the last row of the table whose header row is ``lines[header]`` (blank lines between
    rows are the table's, those after its last row are not)."""
    end = header + 1
    for j in range(header + 1, len(lines)):
        text = lines[j].text
        if not text.strip():
            continue
        if table.sep not in text or len(table.split(text)) < table.width:
            break
        end = j + 1
    return end


def _holds_opinions(table: _Table, rows: Sequence[str]) -> bool:
    """Whether the table's opinion cells (``rows``: its rows' text) are opinions: half of them or more read as
    sentences (a form's ``제시의견`` column holding ``의견없음`` does not)."""
    opinions = [table.cell(table.split(row), "opinion") for row in rows if row.strip()]
    opinions = [_flat(cell) for cell in opinions if cell and not _RULE_CELL.match(cell)]
    return bool(opinions) and 2 * sum(map(is_prose, opinions)) >= len(opinions)


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
    cells = [cell if i == table.roles["opinion"] else _flat(cell) for i, cell in enumerate(cells)]
    number, member, topic = (table.cell(cells, role) for role in ("number", "member", "field"))
    if opinion and not (number or member or topic) and "number" in table.roles and table.last:
        emit("text", _flat(opinion))
    else:
        new_member = bool(member) and member != table.last.get("member")
        if new_member:
            emit("member", member, "|")
            table.last["member"] = member
        topic = topic or table.last.get("field", "")
        if topic and (new_member or topic != table.last.get("field")):
            emit("agenda", topic, "|")
        table.last["field"] = topic
        for kind, text, mark in _opinions(opinion):
            emit(kind, text, mark)
    used = {table.roles[role] for role in ("number", "member", "field", "opinion") if role in table.roles}
    # The cells as written (their column names are the header row's, listed above them): every word of the
    # document is in one place.
    rest = [cell for i, cell in enumerate(cells) if i not in used and cell]
    if rest:
        cells_out.append((line.number, " | ".join(rest)))
    if not (opinion or member or topic or rest):
        out_lines.append(line)
        out_kinds.append(Classified("blank", ""))


def _opinions(cell: str) -> list[tuple[str, str, str]]:
    """An opinion cell as the parser's entries (kind, text, mark): one recommendation, or one per ``ㅇ``
    paragraph when the cell holds several; a dash or a note paragraph is a part of the one before, and any
    other paragraph runs on from it."""
    entries = []
    for k, paragraph in enumerate(p.strip() for p in cell.split(CELL_BREAK) if p.strip()):
        c = classify_line(paragraph)
        if k == 0 and c.kind != "rec":
            c = Classified("rec", paragraph, "|")
        elif c.kind not in ("rec", "sub", "note"):
            c = Classified("text", paragraph)
        entries.append((c.kind, c.text, c.mark))
    return entries


class RecordTables:
    """The tables open in a walk over a document's records (HWP 5.0), each read as rows when it closes: an
    opinion table's paragraphs are replaced by its rows (:func:`opinion_table_rows`), any other table's stay
    one paragraph per cell paragraph.

    In: the list the walk appends paragraphs to. A table opens at its control's level (:meth:`open`); each of
    its cells starts one level down (:meth:`cell`, with its column and row) and holds the paragraphs that come
    until the next; the first record at the control's level or above closes it (:meth:`close`)."""

    def __init__(self, paragraphs: list[str]) -> None:
        self.paragraphs = paragraphs
        # Per open table: its control's level, and (column, row, index of its first paragraph) per cell.
        self.stack: list[tuple[int, list[tuple[int, int, int]]]] = []

    def open(self, level: int) -> None:
        self.stack.append((level, []))

    def cell(self, level: int, column: int, row: int) -> None:
        if self.stack and level == self.stack[-1][0] + 1:
            self.stack[-1][1].append((column, row, len(self.paragraphs)))

    def close(self, level: int) -> None:
        """Close every open table whose control is at ``level`` or deeper (a record at that level came)."""
        while self.stack and level <= self.stack[-1][0]:
            _, cells = self.stack.pop()
            if not cells:
                continue
            grid: dict[int, dict[int, str]] = {}
            ends = [start for _, _, start in cells[1:]] + [len(self.paragraphs)]
            for (column, row, start), stop in zip(cells, ends, strict=True):
                grid.setdefault(row, {})[column] = CELL_BREAK.join(self.paragraphs[start:stop])
            width = max(column for row in grid.values() for column in row) + 1
            rows = [[grid[r].get(c, "") for c in range(width)] for r in sorted(grid)]
            lines = opinion_table_rows(rows)
            if lines is not None:
                self.paragraphs[cells[0][2]:] = lines
