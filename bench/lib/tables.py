"""Result tables as data, and their Markdown.

A table is ``{"columns": [...], "rows": [[cell, ...], ...]}``. A column has a ``label``, an ``align``
(``"right"`` for figures) and a ``format``: a ``str.format`` template for its figures (``"{:.2f}"``, or
``"{:.2f} [{:.2f}, {:.2f}]"`` for a cell that is a list of three). A cell is a number or a list of numbers
(written with the column's format), a string (written as it is: "failed (timeout)" in a column of
seconds), ``null`` (empty), or ``{"value": ..., "format": ...}`` where one cell needs its own format.
So the JSON keeps figures as numbers, and the Markdown is made from them.

A block's body is a list of parts, each ``{"table": ...}`` or ``{"text": "Markdown"}``, joined by blank lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.lib.stamp import render_stamp


@dataclass(frozen=True)
class Column:
    """One column of a result table: its header, the format of its figures, and whether they align right."""

    label: str
    format: str | None = None
    align: str = ""

    def as_dict(self) -> dict[str, str]:
        """The column as stored: its label (which may be empty), and its format and alignment where set."""
        optional = {key: value for key, value in (("format", self.format), ("align", self.align)) if value}
        return {"label": self.label, **optional}


def figure(label: str, fmt: str) -> Column:
    """A right-aligned column of figures written with ``fmt``."""
    return Column(label, fmt, "right")


def cell(value: object, fmt: str) -> dict[str, object]:
    """A cell with its own format (where a column's rows differ in kind)."""
    return {"value": value, "format": fmt}


def table(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> dict[str, object]:
    """A body part holding a table; every row has one cell per column."""
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(columns)} columns: {row!r}")
    return {"table": {"columns": [c.as_dict() for c in columns], "rows": [list(row) for row in rows]}}


def text(markdown: str) -> dict[str, str]:
    """A body part holding Markdown text (a verdict, a note under a table)."""
    return {"text": markdown}


def _formatted(value: object, fmt: str) -> str:
    return fmt.format(*value) if isinstance(value, list | tuple) else fmt.format(value)


def _cell(value: object, fmt: str | None) -> str:
    if isinstance(value, dict):
        # A cell's own format applies to whatever it holds, text included.
        return _formatted(value["value"], value["format"])
    if value is None:
        return ""
    if isinstance(value, str) or fmt is None:
        return str(value)
    return _formatted(value, fmt)


def _row(cells: Sequence[str]) -> str:
    # An empty cell is one space between its bars, as the tables have always been written.
    return "|" + "".join(f" {c} |" if c else " |" for c in cells)


def render_table(grid: dict) -> str:
    """A table part's Markdown."""
    columns = grid["columns"]
    lines = [_row([c["label"] for c in columns]),
             "|" + "".join("---:|" if c.get("align") == "right" else "---|" for c in columns)]
    lines += [_row([_cell(v, c.get("format")) for v, c in zip(row, columns, strict=True)]) for row in grid["rows"]]
    return "\n".join(lines)


def render_body(parts: Sequence[dict]) -> str:
    """A block's body: its tables and texts, separated by blank lines."""
    return "\n\n".join(render_table(p["table"]) if "table" in p else p["text"] for p in parts)


def render_block(block: dict) -> str:
    """What stands between a block's markers: its heading and stamp (unless ``header`` is false), then its body."""
    body = render_body(block["body"])
    if not block.get("header", True):
        return body
    return f"### {block['title']}\n\n{render_stamp(block['stamp'])}\n\n{body}"
