"""The coding record: every researcher decision on a round's units, read from files and merged in order.

A **corrections file** (수정 코딩) is a CSV (UTF-8, BOM allowed) with one row per decided unit. Only
``rec_id`` and ``theme_id`` (or ``theme_label``) are needed; the record a run folder keeps
(``corrections.csv``) and the files the report and ``import-qdpx`` write have every column of the record
(:data:`pipeline.runfolder.schema.RECORD_COLUMNS`): ``rec_id, theme_id, theme_label, note, source``
(``report``, ``qdpx`` or ``file``), ``time`` (when the decision was made, ISO 8601, empty where unknown)
and ``previous_theme_id`` (the theme the unit showed where the decision was made, empty where unknown).

- :func:`pipeline.themes.correctionfiles.load_record` reads every file before any work and checks each line
  against the known themes (every bad line of every file is named in one :class:`InputError`).
- :meth:`CodingRecord.for_round` keeps the rows of one round: a file none of whose units is in the round is
  an error (the wrong file), other rounds' rows are one warning line; files merge in order, the later
  wins and each conflict is one warning line. A row that only *keeps* the theme its unit showed
  (``theme_id`` = ``previous_theme_id``, e.g. a unit left as it was in a QDA tool) does not undo an
  earlier decision that moved the unit: whoever wrote it had not seen that decision.
- :func:`apply_corrections` is the pure step that gives each decided unit its theme.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core.errors import InputError
from pipeline.core.records import UNASSIGNED_ID, Assignment, ThemeInfo

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


def raise_problems(problems: Sequence[Problem], files: Sequence[str]) -> None:
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
        raise_problems(problems, [f.path for f in self.files if f.path])
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
    raise_problems(problems, [c.path for c in rows if c.path] or ["corrections"])
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
