"""The coding record: every researcher decision on a round's units, read from files and merged in order.

A **corrections file** (수정 코딩) is a CSV (UTF-8, BOM allowed) with one row per decided unit. Only
``rec_id`` and ``theme_id`` (or ``theme_label``) are needed; the record a run folder keeps
(``corrections.csv``) and the files the report and ``import-qdpx`` write have every column of the record
(:data:`pipeline.runfolder.schema.RECORD_COLUMNS`): ``rec_id, theme_id, theme_label, note, source``
(``report``, ``qdpx`` or ``file``), ``time`` (when the decision was made, ISO 8601, empty where unknown)
and ``previous_theme_id`` (the theme the unit showed where the decision was made, empty where unknown).

- :func:`load_record` reads every file before any work and checks each line against the known themes:
  every bad line of every file is named in one :class:`InputError`; a ``theme_id`` that is a theme's
  label (``판로·유통``) or an id in another case is accepted, a near miss gets a suggestion
  (:mod:`difflib`), and a row naming a theme nobody has *with* a ``theme_label`` creates a researcher
  theme (``theme_source`` = ``researcher``). A discovered theme's id with a new label renames it into a
  researcher theme as well: the one way a non-codebook theme becomes the researcher's.
- :meth:`CodingRecord.for_round` keeps the rows of one round: a file none of whose units is in the round is
  an error (the wrong file), other rounds' rows are one warning line; files merge in order, the later
  wins and each conflict is one warning line. A row that only *keeps* the theme its unit showed
  (``theme_id`` = ``previous_theme_id``, e.g. a unit left as it was in a QDA tool) does not undo an
  earlier decision that moved the unit: whoever wrote it had not seen that decision.
- :func:`apply_corrections` is the pure step that gives each decided unit its theme.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core.cells import from_csv_text
from pipeline.core.errors import InputError
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, ThemeInfo

log = logging.getLogger(__name__)

RESEARCHER = "researcher"
# A researcher's decision is certain as far as the pipeline is concerned; the model's score was for its own theme.
RESEARCHER_SCORE = 1.0
#: Where a decision was made: the report's select boxes, a QDA tool's project, or a file written by hand.
SOURCES = ("report", "qdpx", "file")
#: A CSV cell may hold at most this many characters (Python's csv default): a longer one is not a note.
MAX_FIELD = 131_072
_SHOWN = 5
_SHOWN_PROBLEMS = 20
# A theme a fit makes: a discovered theme, or a new-theme candidate of the codebook step (themes.openset).
_DISCOVERED_ID = re.compile(r"(discovered|new_theme)_\d+")
_CANDIDATE_ID = re.compile(r"new_theme_\d+")


@dataclass(frozen=True)
class Correction:
    """One researcher decision: the unit, the theme it gets and where the decision comes from.

    ``line`` and ``path`` say where the row was read (0 and "" for rows made in code).
    """

    rec_id: str
    theme_id: str
    theme_label: str = ""
    note: str = ""
    source: str = "file"
    time: str = ""
    previous_theme_id: str = ""
    line: int = 0
    path: str = ""

    @property
    def keeps(self) -> bool:
        """Whether the row only keeps the theme its unit showed where the decision was made."""
        return bool(self.previous_theme_id) and self.previous_theme_id == self.theme_id

    def where(self) -> str:
        return f"{Path(self.path).name} {self.line}행" if self.path else "기록"

    def problem(self, text: str) -> Problem:
        return Problem(self.path or "기록", self.line, text)


@dataclass(frozen=True)
class Problem:
    """A bad line of a corrections file (``line`` 0: the file as a whole)."""

    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{Path(self.path).name}{f' {self.line}행' if self.line else ''}: {self.text}"


@dataclass(frozen=True)
class RecordFile:
    """The rows of one corrections file, its sha256, and whether it is a run folder's own record."""

    path: str
    sha256: str
    rows: tuple[Correction, ...]
    own: bool = False


def researcher_theme_id(label: str) -> str:
    """The id of a researcher theme known only by its label: ``researcher_`` + 8 hex of the label's hash.

    The same label (NFC, outer spaces stripped) gives the same id in every file, run and tool.
    """
    key = unicodedata.normalize("NFC", label.strip()).encode("utf-8")
    return "researcher_" + hashlib.sha1(key).hexdigest()[:8]


def _clean(value: object) -> str:
    """A cell as the researcher meant it: NFC, trimmed, and without the quote that keeps a formula-like
    cell inert in a spreadsheet (:func:`~pipeline.core.cells.csv_text` adds it when a record is written)."""
    return from_csv_text(unicodedata.normalize("NFC", str(value or "")).strip())


# --------------------------------------------------------------------------- reading


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


def _raise(problems: Sequence[Problem], files: Sequence[str]) -> None:
    """One ``InputError`` naming every problem, by file (in ``files`` order) and line; none when there is none."""
    if not problems:
        return
    order = {path: i for i, path in enumerate(files)}
    ordered = sorted(problems, key=lambda p: (order.get(p.path, len(order)), p.line))
    shown = "; ".join(str(p) for p in ordered[:_SHOWN_PROBLEMS])
    more = f" … 외 {len(problems) - _SHOWN_PROBLEMS}건" if len(problems) > _SHOWN_PROBLEMS else ""
    raise InputError(files[0], f"수정 파일 오류 {len(problems)}건 — {shown}{more}")


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class CodingRecord:
    """A round's researcher decisions as read: the files in order (a run folder's own record first), their
    rows with theme ids resolved and the researcher themes they create (id -> label; :func:`settle` says,
    once a model has its themes, which are new to it and which discovered themes they rename)."""

    files: tuple[RecordFile, ...] = ()
    new_themes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Sequence[Correction], themes: Sequence[ThemeInfo] = ()) -> CodingRecord:
        """A record of rows made in code (an archived round's), with the researcher themes they name."""
        known = {t.theme_id for t in themes} | {UNASSIGNED_ID}
        new = {c.theme_id: c.theme_label or c.theme_id for c in rows if c.theme_id not in known}
        return cls((RecordFile("", "", tuple(rows)),), new)

    @property
    def empty(self) -> bool:
        return not any(f.rows for f in self.files)

    def run_info(self) -> list[dict] | None:
        """run.json's ``parameters.corrections``: each file read (path, sha256, rows); None without any."""
        # A run folder's own record counts once it holds a decision: a rerun with none writes what a first run does.
        listed = [{"path": f.path, "sha256": f.sha256, "rows": len(f.rows)} for f in self.files
                  if f.path and (f.rows or not f.own)]
        return listed or None

    def for_round(self, rec_ids: Sequence[str]) -> list[Correction]:
        """The merged decisions on the units ``rec_ids`` (a round), in the round's order.

        Raises ``InputError`` for a file (other than a run folder's own record) none of whose rows is
        in the round; rows of other rounds are one warning line; conflicts between files are one
        warning line each (the later file wins, except that a row keeping its unit's theme does not undo
        an earlier decision).
        """
        order = {r: i for i, r in enumerate(rec_ids)}
        problems: list[Problem] = []
        outside = []
        for f in self.files:
            hits = [c for c in f.rows if c.rec_id in order]
            missing = [c for c in f.rows if c.rec_id not in order]
            if f.rows and not hits and not f.own and f.path:
                problems.append(Problem(f.path, 0, f"{len(f.rows)}건 모두 이 회차에 없는 rec_id입니다 "
                                                   "(다른 회차의 수정 파일인가요?)"))
            elif f.rows and not hits and f.own:
                log.warning("%s: 이전 수정 기록 %d건이 이 회차의 권고가 아니어서 이어받지 않습니다", f.path,
                            len(f.rows))
            elif missing:
                outside += missing
        _raise(problems, [f.path for f in self.files if f.path])
        if outside:
            shown = ", ".join(c.rec_id for c in outside[:_SHOWN]) + (" …" if len(outside) > _SHOWN else "")
            log.warning("수정 파일의 rec_id %d건은 이 회차에 없어 건너뜁니다: %s", len(outside), shown)
        merged = _merge([[c for c in f.rows if c.rec_id in order] for f in self.files])
        return sorted(merged.values(), key=lambda c: order[c.rec_id])


def settle(rows: Sequence[Correction], themes: Sequence[ThemeInfo]) -> tuple[dict[str, str], dict[str, str]]:
    """Against a model's ``themes``: the researcher themes ``rows`` add (id -> label) and the discovered themes
    they rename (id -> label).

    A row's theme the model has keeps it (a discovered theme named with another label is renamed: it
    becomes the researcher's); a theme the model lacks is new when the row gives it a label. A theme
    neither has (a discovered id the fit did not make) raises ``InputError`` naming the file and line.
    """
    mine = {t.theme_id: t for t in themes}
    add: dict[str, str] = {}
    rename: dict[str, str] = {}
    problems: list[Problem] = []
    for c in rows:
        theme = mine.get(c.theme_id)
        if c.theme_id == UNASSIGNED_ID:
            continue
        if theme is None and c.theme_label:
            add.setdefault(c.theme_id, c.theme_label)
        elif theme is None:
            problems.append(c.problem(f"이 실행에는 {c.theme_id} 주제가 없습니다; "
                                      "새 주제라면 theme_label 열에 이름을 적으세요"))
        elif theme.source == "discovered" and c.theme_label and c.theme_label != theme.label:
            rename[c.theme_id] = c.theme_label
    _raise(problems, [c.path for c in rows if c.path] or ["corrections"])
    return add, rename


def _merge(files: Sequence[Sequence[Correction]]) -> dict[str, Correction]:
    """Rows of several files, later files winning; one warning line per conflict, one for kept decisions."""
    merged: dict[str, Correction] = {}
    kept = []
    for rows in files:
        for c in rows:
            earlier = merged.get(c.rec_id)
            if earlier is None or earlier.theme_id == c.theme_id:
                merged[c.rec_id] = earlier if earlier is not None and c.keeps else c
            elif c.keeps:
                kept.append(c)
            else:
                log.warning("%s: %s(%s)의 %s 대신 %s(%s)의 %s를 따릅니다", c.rec_id, earlier.where(), earlier.source,
                            earlier.theme_id, c.where(), c.source, c.theme_id)
                merged[c.rec_id] = c
    if kept:
        log.info("이전 결정 %d건은 그대로 둡니다: 나중 파일(%s)은 그 권고를 바꾸지 않았습니다",
                 len(kept), ", ".join(dict.fromkeys(Path(c.path).name for c in kept)))
    return merged


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
    _raise(problems, [str(p) for p, _ in sources])
    return CodingRecord(tuple(resolved), dict(catalogue.new))


def is_discovered_id(theme_id: str) -> bool:
    """Whether ``theme_id`` has the form of an id a fit makes (``discovered_03``, ``new_theme_01``)."""
    return bool(_DISCOVERED_ID.fullmatch(theme_id))


def is_candidate_id(theme_id: str) -> bool:
    """Whether ``theme_id`` has the form of a new-theme candidate's id (``new_theme_01``), which a round
    assigned to a saved model may find."""
    return bool(_CANDIDATE_ID.fullmatch(theme_id))


# --------------------------------------------------------------------------- applying


def apply_corrections(assignments: Sequence[Assignment], corrections: Sequence[Correction],
                      theme_labels: Mapping[str, str]) -> list[Assignment]:
    """Assignments with the decided units re-themed; the input is not changed.

    A decided unit gets the researcher's ``theme_id``, its label from ``theme_labels`` (the row's own
    label for a theme the mapping lacks), ``theme_score`` 1.0, ``theme_source`` ``researcher``, no
    runner-up or margin and ``needs_review`` false; every other assignment is returned as it was, in
    the same order. Corrections naming no assignment are ignored.
    """
    by_rec = {c.rec_id: c for c in corrections}
    out = []
    for a in assignments:
        c = by_rec.get(a.rec_id)
        if c is None:
            out.append(a)
        else:
            label = theme_labels.get(c.theme_id) or c.theme_label or c.theme_id
            # The model's runner-up and margin were about its own choice; a decided unit needs no review.
            out.append(replace(a, theme_id=c.theme_id, theme_label=label, theme_score=RESEARCHER_SCORE,
                               theme_source=RESEARCHER, theme_runner_up="", theme_margin=None, needs_review=False))
    return out
