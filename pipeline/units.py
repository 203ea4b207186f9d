"""The parse stage end to end: paths -> documents -> units with program codes.

``load_units`` is what every command calls first; ``write_units`` is ``advisory parse``'s output.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.atomic import Target, replacing
from pipeline.errors import InputError
from pipeline.parser import StructureParser
from pipeline.programs import FIELD_NAMES, ProgramMapper, ProgramRegistry, unknown_codes
from pipeline.readers import read_round
from pipeline.records import Document, Unit

log = logging.getLogger(__name__)

#: Columns of ``advisory parse`` output (CONTRACT order, less the theme columns).
UNIT_COLUMNS = (
    "rec_id", "round", "source", "member", "agenda", "question", "text", "program_codes", "code_sources",
    "fields", "line_start", "line_end", "member_label", "lead", "tags", "subpoints", "notes", "unknown_codes",
)


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
            log.warning("skipped %s", err)
        rounds.append(Round(path.name if path.is_dir() else path.stem, path, tuple(docs)))
    return rounds


def parse_rounds(
    rounds: Sequence[Round],
    programs: str | os.PathLike | None = None,
    parser: StructureParser | None = None,
) -> list[Unit]:
    """Parse and map read rounds into units.

    Members are numbered in order of appearance within a round, across its documents.
    Raises :class:`InputError` for a round in which no unit at all is found.
    """
    parser = parser or StructureParser()
    mapper = ProgramMapper(ProgramRegistry.load(programs))
    units: list[Unit] = []
    for rnd in rounds:
        offset = 0
        for doc in rnd.documents:
            parsed = parser.parse(doc, round_id=rnd.round_id)
            if not parsed.units:
                log.warning("%s: no recommendation found", doc.path)
            shifted = [_shift_member(u, offset) for u in parsed.units]
            offset = max([offset, *(u.member or 0 for u in shifted)])
            units.extend(shifted)
        if not any(u.round == rnd.round_id for u in units):
            raise InputError(str(rnd.path), "no recommendation units found")
    mapped = mapper.transform(units)
    for code in unknown_codes(mapped):
        # File and line, so the researcher can open the round there and fix the code or the registry.
        where = ", ".join(f"{u.source}:{u.line_start} ({u.rec_id})" for u in mapped if code in u.unknown_codes)
        log.warning("사업 코드 %s는 사업 목록(programs.csv)에 없습니다 — %s", code, where)
    return mapped


def load_units(
    paths: Sequence[str | os.PathLike],
    programs: str | os.PathLike | None = None,
    skip_bad: bool = False,
    parser: StructureParser | None = None,
) -> list[Unit]:
    """:func:`read_rounds` then :func:`parse_rounds`: paths in, units with program codes out."""
    return parse_rounds(read_rounds(paths, skip_bad=skip_bad), programs=programs, parser=parser)


def _shift_member(unit: Unit, offset: int) -> Unit:
    if not offset or unit.member is None:
        return unit
    return replace(unit, member=unit.member + offset)


def unit_row(unit: Unit) -> dict[str, object]:
    """One unit as a flat row: lists ``;``-joined, code sources as ``code:source``."""
    return {
        "rec_id": unit.rec_id,
        "round": unit.round,
        "source": unit.source,
        "member": "" if unit.member is None else unit.member,
        "agenda": unit.agenda,
        "question": unit.question,
        "text": unit.text,
        "program_codes": ";".join(unit.program_codes),
        "code_sources": ";".join(f"{c}:{s}" for c, s in unit.code_sources),
        "fields": ";".join(unit.fields),
        "line_start": unit.line_start,
        "line_end": unit.line_end,
        "member_label": unit.member_label,
        "lead": unit.lead,
        "tags": ";".join(unit.tags),
        "subpoints": " | ".join(unit.subpoints),
        "notes": " | ".join(unit.notes),
        "unknown_codes": ";".join(unit.unknown_codes),
    }


def write_units(units: Sequence[Unit], out: str | os.PathLike | None) -> None:
    """Write units as CSV (UTF-8 with BOM, for Korean Excel) or JSONL (by suffix); stdout if None.

    The file is written under a staging name and renamed (:mod:`pipeline.atomic`), so a failure
    leaves no partial file and a reader never sees one.
    """
    suffix = Path(out).suffix.lower() if out is not None else ".csv"
    if suffix not in (".csv", ".jsonl"):
        raise InputError(str(out), "output must end in .csv or .jsonl")
    buf = io.StringIO()
    if suffix == ".jsonl":
        for u in units:
            row = unit_row(u)
            row["field_names"] = [FIELD_NAMES[f] for f in u.fields]
            buf.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(buf, fieldnames=UNIT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(unit_row(u) for u in units)
    if out is None:
        sys.stdout.write(buf.getvalue())
        return
    with replacing([Target(Path(out), "file")]) as (staging,):
        staging.write_text(buf.getvalue(), encoding="utf-8-sig" if suffix == ".csv" else "utf-8", newline="")
