"""The parse stage over whole rounds: paths -> documents -> units with program codes, and the unplaced lines.

``load_units`` is what every command calls first. A round is a file or a folder of files; its members are
numbered across its documents and every unit gets an id no other unit of the round has. The lines no unit
took (:class:`~pipeline.core.records.Unplaced`) come with the units from :func:`parse_with_unplaced`; the files
that list them (``unplaced.csv``, ``advisory parse``'s output) are :mod:`pipeline.runfolder.schema`'s.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core.errors import InputError
from pipeline.core.records import Document, Unit, Unplaced
from pipeline.read.documents import read_round
from pipeline.read.parser import StructureParser
from pipeline.read.placement import REASON_LABELS
from pipeline.read.programs import ProgramMapper, ProgramRegistry, unknown_codes

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Round:
    """The documents of one round, as read: ``path`` is the file or folder the round came from."""

    round_id: str
    path: Path
    documents: tuple[Document, ...]


def read_rounds(paths: Sequence[str | os.PathLike], skip_bad: bool = False) -> list[Round]:
    """Read every path (a file is a round; a folder of files is one round).

    Raises :class:`InputError` on bad input, or logs and skips it with ``skip_bad``.
    """
    rounds = []
    for path in map(Path, paths):
        docs, bad = read_round([path], skip_bad=skip_bad)
        for err in bad:
            log.warning("건너뜀: %s", err)
        rounds.append(Round(path.name if path.is_dir() else path.stem, path, tuple(docs)))
    return rounds


def parse_rounds(
    rounds: Sequence[Round],
    programs: str | os.PathLike | None = None,
    parser: StructureParser | None = None,
) -> list[Unit]:
    """The units of :func:`parse_with_unplaced`."""
    return parse_with_unplaced(rounds, programs, parser)[0]


def parse_with_unplaced(
    rounds: Sequence[Round],
    programs: str | os.PathLike | None = None,
    parser: StructureParser | None = None,
) -> tuple[list[Unit], list[Unplaced]]:
    """Parse and map read rounds into units, and list the lines no unit took.

    Members are numbered in order of appearance within a round, across its documents.
    Every unit gets a ``rec_id`` no other unit has (see :func:`unique_rec_id`); units that repeat
    an earlier one of their round word for word (the same recommendation in two files, or one
    round given as HWPX and PDF together) are all kept and reported in one warning per round.
    The unplaced stretches name their file as the units do (its path inside a round folder).
    Raises :class:`InputError` for a round in which no unit at all is found.
    """
    parser = parser or StructureParser()
    mapper = ProgramMapper(ProgramRegistry.load(programs))
    units: list[Unit] = []
    unplaced: list[Unplaced] = []
    taken: set[str] = set()
    for rnd in rounds:
        offset = 0
        n_before = len(units)
        contents: set[str] = set()  # the parser's content ids met in this round
        repeats: dict[str, int] = {}  # file -> its units that repeat an earlier one
        for doc in rnd.documents:
            parsed = parser.parse(doc, round_id=rnd.round_id)
            if not parsed.units:
                log.warning("%s: 권고를 찾지 못했습니다", doc.path)
            source = _source_in_round(doc, rnd)
            unplaced.extend(replace(stretch, source=source) for stretch in parsed.unplaced)
            first_member = offset
            for unit in parsed.units:
                # The parser numbers repeats within one document "<digest>-2", "-3"…
                content = unit.rec_id.split("-", 1)[0]
                if content in contents:
                    repeats[source] = repeats.get(source, 0) + 1
                contents.add(content)
                rec_id = unique_rec_id(unit.rec_id, source, taken)
                taken.add(rec_id)
                shifted = replace(_shift_member(unit, first_member), rec_id=rec_id)
                offset = max(offset, shifted.member or 0)
                units.append(shifted)
        if len(units) == n_before:
            raise InputError(str(rnd.path), "권고 단위를 하나도 찾지 못했습니다")
        if repeats:
            where = ", ".join(f"{source} {n}건" for source, n in repeats.items())
            log.warning(
                "%s: 권고 %d건이 앞의 권고를 글자 그대로 되풀이합니다 (같은 안건·질문): %s; "
                "모두 각자의 rec_id로 유지합니다",
                rnd.path, sum(repeats.values()), where,
            )
    mapped = mapper.transform(units)
    for code in unknown_codes(mapped):
        # File and line, so the researcher can open the round there and fix the code or the registry.
        where = ", ".join(f"{u.source}:{u.line_start} ({u.rec_id})" for u in mapped if code in u.unknown_codes)
        log.warning("사업 코드 %s는 사업 목록(programs.csv)에 없습니다 — %s", code, where)
    return mapped, unplaced


def unplaced_line_count(unplaced: Sequence[Unplaced]) -> int:
    """How many document lines the stretches hold (each stretch's text has one line per document line)."""
    return sum(len(stretch.text.split("\n")) for stretch in unplaced)


def warn_unplaced(unplaced: Sequence[Unplaced], listed_in: str | os.PathLike | None) -> None:
    """One warning line with the number of lines no unit took, why, and the file that lists them."""
    if not unplaced:
        return
    reasons = Counter(stretch.reason for stretch in unplaced)
    why = ", ".join(f"{REASON_LABELS.get(reason, reason)} {n}곳" for reason, n in reasons.most_common())
    where = f" — 목록: {listed_in}" if listed_in is not None else " — 목록은 --out 파일 옆 <이름>.unplaced.csv"
    log.warning("권고 단위에 들어가지 않은 줄 %d개 (%s)%s", unplaced_line_count(unplaced), why, where)


def load_units(
    paths: Sequence[str | os.PathLike],
    programs: str | os.PathLike | None = None,
    skip_bad: bool = False,
    parser: StructureParser | None = None,
) -> list[Unit]:
    """:func:`read_rounds` then :func:`parse_rounds`: paths in, units with program codes out."""
    return parse_rounds(read_rounds(paths, skip_bad=skip_bad), programs=programs, parser=parser)


def unique_rec_id(rec_id: str, source: str, taken: set[str]) -> str:
    """A rec_id for a unit that no unit in ``taken`` has.

    In: the parser's id (a hash of round, member, agenda, question and text, so the same document
    as TXT, HWPX or PDF gives the same ids), the unit's file as named in its round, the ids given.
    Out: the parser's id while it is free; for a repeat, a hash of it with the source file (stable
    however many other files the round holds); a counter only when that too is taken (the same
    file name given twice).
    """
    if rec_id not in taken:
        return rec_id
    base = hashlib.sha1(f"{rec_id}\x1f{source}".encode()).hexdigest()[:10]
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _source_in_round(doc: Document, rnd: Round) -> str:
    """The document's path inside its round's folder (its file name for a one-file round)."""
    path = Path(doc.path)
    if rnd.path.is_dir():
        try:
            return path.relative_to(rnd.path).as_posix()
        except ValueError:
            pass
    return path.name


def _shift_member(unit: Unit, offset: int) -> Unit:
    if not offset or unit.member is None:
        return unit
    return replace(unit, member=unit.member + offset)


