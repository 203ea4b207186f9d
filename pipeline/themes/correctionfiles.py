"""Reading corrections files: every file read and checked before any work, into a :class:`CodingRecord`.

:func:`load_record` reads every file and checks each line against the known themes: every bad line of
every file is named in one :class:`~pipeline.core.errors.InputError` (:func:`raise_problems`); a ``theme_id``
that is a theme's label (``판로·유통``) or an id in another case is accepted, a near miss gets a suggestion
(:mod:`difflib`), and a row naming a theme nobody has *with* a ``theme_label`` creates a researcher theme
(``theme_source`` = ``researcher``). A discovered theme's id with a new label renames it into a researcher
theme as well: the one way a non-codebook theme becomes the researcher's. What a file may hold is in
:mod:`pipeline.themes.corrections`.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import os
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core.cells import from_csv_text
from pipeline.core.errors import InputError
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, ThemeInfo
from pipeline.themes.corrections import (
    MAX_FIELD,
    SOURCES,
    CodingRecord,
    Correction,
    Problem,
    RecordFile,
    raise_problems,
    researcher_theme_id,
)


def _clean(value: object) -> str:
    """A cell as the researcher meant it: NFC, trimmed, and without the quote that keeps a formula-like
    cell inert in a spreadsheet (:func:`~pipeline.core.cells.csv_text` adds it when a record is written)."""
    return from_csv_text(unicodedata.normalize("NFC", str(value or "")).strip())


def _decode(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as err:
        raise InputError(str(path), "수정 파일이 없습니다") from err
    except IsADirectoryError as err:
        raise InputError(str(path), "수정 파일이 아니라 폴더입니다") from err
    except UnicodeDecodeError as err:
        raise InputError(str(path), "수정 파일이 UTF-8 텍스트가 아닙니다 (엑셀에서 'CSV UTF-8'로 저장하세요)") from err
    except OSError as err:
        raise InputError(str(path), f"수정 파일을 읽을 수 없습니다 ({err.strerror})") from err


def _csv_rows(text: str, problems: list[tuple[int, str]]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and (first line, row) of a CSV text; a broken quote or an oversized cell ends the file
    with one problem naming the line where its row starts."""
    # strict: an unterminated quote is an error, not the rest of the file swallowed into one note.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    end = 0
    try:
        header = [name.strip() for name in next(reader, [])]
        end = reader.line_num
        for cells in reader:
            rows.append((end + 1, dict(zip(header, cells, strict=False))))
            end = reader.line_num
    except csv.Error as err:
        if "field larger" in str(err):
            problems.append((end + 1, f"칸 하나가 {MAX_FIELD // 1024} KB를 넘습니다 (수정 파일이 맞나요?)"))
        else:
            problems.append((end + 1, "따옴표(\")가 닫히지 않았습니다"))
    return header, rows


def _row(path: Path, line: int, row: dict[str, str], problems: list[tuple[int, str]]) -> Correction | None:
    """One data row as a :class:`Correction`; None for a blank row or, with a problem, a bad one."""
    rec_id, theme_id, label = _clean(row.get("rec_id")), _clean(row.get("theme_id")), _clean(row.get("theme_label"))
    source = _clean(row.get("source")) or "file"
    if not rec_id and not theme_id and not label:
        return None  # a blank line, or a row of empty cells from a spreadsheet
    if not rec_id:
        problems.append((line, "rec_id가 비어 있습니다"))
    elif not theme_id and not label:
        problems.append((line, f"{rec_id}의 theme_id가 비어 있습니다"))
    elif source not in SOURCES:
        problems.append((line, f"source {source!r}는 {', '.join(SOURCES)} 중 하나여야 합니다"))
    else:
        return Correction(rec_id, theme_id, label, _clean(row.get("note")), source, _clean(row.get("time")),
                          _clean(row.get("previous_theme_id")), line, str(path))
    return None


def _read_file(path: Path, own: bool, problems: list[Problem]) -> RecordFile:
    """One file's rows; its problems (each naming the file and line) are appended to ``problems``."""
    try:
        data = _decode(path)
    except InputError as err:
        problems.append(Problem(str(path), 0, err.reason))
        return RecordFile(str(path), "", (), own)
    mine: list[tuple[int, str]] = []
    header, lines = _csv_rows(data, mine)
    if header and ("rec_id" not in header or not {"theme_id", "theme_label"} & set(header)):
        mine.append((1, "수정 파일에는 rec_id 열과 theme_id(또는 theme_label) 열이 있어야 합니다"))
        lines = []
    elif not header and not mine:
        mine.append((1, "머리행(rec_id,theme_id,…)이 없습니다"))
    rows: dict[str, Correction] = {}
    for line, cells in lines:
        c = _row(path, line, cells, mine)
        earlier = None if c is None else rows.get(c.rec_id)
        if c is None:
            continue
        if earlier is not None and (earlier.theme_id, earlier.theme_label) != (c.theme_id, c.theme_label):
            mine.append((line, f"{c.rec_id}가 {earlier.line}행에서는 {earlier.theme_id or earlier.theme_label}, "
                               f"여기서는 {c.theme_id or c.theme_label}(으)로 코딩되어 있습니다"))
        else:
            rows[c.rec_id] = c
    problems += [Problem(str(path), line, text) for line, text in mine]
    # The good rows are kept even when others are bad: their themes are checked too, so one message names all.
    return RecordFile(str(path), hashlib.sha256(data.encode("utf-8")).hexdigest(), tuple(rows.values()), own)


# --------------------------------------------------------------------------- themes


@dataclass
class _Themes:
    """The themes a record's rows may name: id -> ThemeInfo, label -> id, and ids resolved later."""

    known: dict[str, ThemeInfo]
    provisional: Callable[[str], bool]
    by_label: dict[str, str] = field(default_factory=dict)
    new: dict[str, str] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for theme in self.known.values():
            self.by_label.setdefault(_clean(theme.label), theme.theme_id)
            self.by_label.setdefault(theme.theme_id.casefold(), theme.theme_id)

    def find(self, name: str) -> str | None:
        if name in self.known or name in self.new:
            return name
        return self.by_label.get(name) or self.by_label.get(name.casefold())

    def suggestion(self, name: str) -> str:
        names = [*self.known, *(t.label for t in self.known.values() if t.label)]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
        return f" (혹시 {close[0]}?)" if close else ""


def _define_new(rows: Iterable[Correction], themes: _Themes, problems: list[Problem]) -> None:
    """Researcher themes the rows define: an unknown ``theme_id`` with a ``theme_label``, or a new label alone."""
    for c in rows:
        if not c.theme_label or (c.theme_id and (c.theme_id in themes.known or themes.provisional(c.theme_id))):
            continue
        if c.theme_id and themes.find(c.theme_id) in themes.known:
            continue  # a known theme named by its label or another case of its id
        owner = themes.find(c.theme_label)
        if not c.theme_id and owner is not None:
            continue  # an existing theme named by its label alone
        theme_id = c.theme_id or researcher_theme_id(c.theme_label)
        if owner is not None and owner != theme_id:
            problems.append(c.problem(f"주제 이름 {c.theme_label!r}은(는) 이미 {owner} 주제의 이름입니다"))
            themes.refused.add(theme_id)
        elif themes.new.setdefault(theme_id, c.theme_label) != c.theme_label:
            problems.append(c.problem(f"새 주제 {theme_id}의 이름이 {themes.new[theme_id]!r}와 "
                                      f"{c.theme_label!r}로 다릅니다"))
            themes.refused.add(theme_id)
        else:
            themes.by_label.setdefault(c.theme_label, theme_id)


def _resolve(c: Correction, themes: _Themes, problems: list[Problem]) -> Correction | None:
    """The row with its ``theme_id`` resolved (a label accepted for an id); None, with a problem, when unknown."""
    if c.theme_id:
        found = themes.find(c.theme_id) or (c.theme_id if themes.provisional(c.theme_id) else None)
    else:
        found = themes.find(c.theme_label)
    if found is None and c.theme_id in themes.refused:
        return None  # its definition is already named as a problem
    if found is None:
        name = c.theme_id or c.theme_label
        problems.append(c.problem(f"{name!r}은(는) 코드북에도 모델에도 없는 주제입니다{themes.suggestion(name)}; "
                                  "새 주제라면 theme_label 열에 이름을 적으세요"))
        return None
    label = c.theme_label or themes.new.get(found) or (themes.known[found].label if found in themes.known else "")
    return replace(c, theme_id=found, theme_label=label)


def load_record(paths: Sequence[str | os.PathLike], themes: Sequence[ThemeInfo], *,
                prior: str | os.PathLike | None = None,
                provisional: Callable[[str], bool] | None = None) -> CodingRecord:
    """Read and check corrections files before any work; out: the :class:`CodingRecord`.

    In: the files in order, the themes rows may name (codebook's or model's), a run folder's own
    record ``prior`` (read first; its rows may name any round), and ``provisional(theme_id)``, true
    for ids only a fit can confirm (a run's discovered themes; :meth:`CodingRecord.settle`). Every bad
    line of every file is named in one ``InputError``: broken CSV, missing columns or cells, a rec_id
    coded twice, an unknown theme (with a suggestion for a near miss). A ``theme_id`` may be a theme's
    label; a ``theme_label`` with an unknown or empty ``theme_id`` makes a researcher theme.
    """
    sources = ([(Path(prior), True)] if prior is not None else []) + [(Path(p), False) for p in paths]
    problems: list[Problem] = []
    files = [_read_file(path, own, problems) for path, own in sources]
    known = {t.theme_id: t for t in themes}
    known.setdefault(UNASSIGNED_ID, ThemeInfo(UNASSIGNED_ID, UNASSIGNED_LABEL, UNASSIGNED_ID))
    catalogue = _Themes(known, provisional or (lambda theme_id: False))
    for f in files:
        _define_new(f.rows, catalogue, problems)
    resolved = []
    for f in files:
        rows = [r for c in f.rows if (r := _resolve(c, catalogue, problems)) is not None]
        resolved.append(replace(f, rows=tuple(rows)))
    raise_problems(problems, [str(p) for p, _ in sources])
    return CodingRecord(tuple(resolved), dict(catalogue.new))
