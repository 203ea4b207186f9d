"""Researcher corrections: a CSV that overrides the model's theme for listed units (CONTRACT.md).

The file has the columns ``rec_id,theme_id`` and optionally ``note`` (UTF-8, with or without
BOM; other columns are ignored). :func:`read_corrections` reads and checks its shape,
:func:`corrections_csv` writes one (what ``advisory import-qdpx`` produces),
:func:`check_corrections` checks it against a round (theme ids must exist; rec_ids outside
the round are reported in one warning line, since one file serves many rounds) and
:func:`apply_corrections` is the pure step that gives each listed unit its theme with
``theme_source`` = ``researcher``.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core.cells import csv_text, from_csv_text
from pipeline.core.errors import InputError
from pipeline.core.records import Assignment

log = logging.getLogger(__name__)

RESEARCHER = "researcher"
# A researcher's decision is certain as far as the pipeline is concerned; the model's score was for its own theme.
RESEARCHER_SCORE = 1.0
_REQUIRED = ("rec_id", "theme_id")
COLUMNS = (*_REQUIRED, "note")
_SHOWN_UNKNOWN = 5


@dataclass(frozen=True)
class Correction:
    """One line of a corrections file: the unit, the theme it gets, the researcher's note, the file line."""

    rec_id: str
    theme_id: str
    note: str = ""
    line: int = 0


def read_corrections(path: str | os.PathLike) -> list[Correction]:
    """Read a corrections CSV; out: one :class:`Correction` per data line, in file order.

    Raises ``InputError`` naming the file (and the line where there is one) for a missing or
    undecodable file, missing ``rec_id``/``theme_id`` columns, an empty ``rec_id`` or
    ``theme_id``, or a ``rec_id`` listed twice with different themes (a repeat with the same
    theme is kept once).
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as err:
        raise InputError(str(path), "corrections file not found") from err
    except UnicodeDecodeError as err:
        raise InputError(str(path), "corrections file is not UTF-8 text (save it as CSV UTF-8)") from err
    except OSError as err:
        raise InputError(str(path), f"cannot read corrections file ({err.strerror})") from err
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise InputError(str(path), f"line 1: corrections need the columns rec_id,theme_id[,note]; "
                                    f"missing {','.join(missing)}")
    reader.fieldnames = header
    corrections: dict[str, Correction] = {}
    for row in reader:
        line = reader.line_num
        rec_id, theme_id = (from_csv_text((row.get(key) or "").strip()) for key in _REQUIRED)
        if not rec_id and not theme_id:
            continue  # a blank line or a row of empty cells from a spreadsheet
        if not rec_id or not theme_id:
            raise InputError(str(path), f"line {line}: both rec_id and theme_id are needed")
        earlier = corrections.get(rec_id)
        if earlier is not None and earlier.theme_id != theme_id:
            raise InputError(str(path), f"line {line}: rec_id {rec_id} is corrected to {theme_id} here but to "
                                        f"{earlier.theme_id} on line {earlier.line}")
        if earlier is None:
            corrections[rec_id] = Correction(rec_id, theme_id, from_csv_text((row.get("note") or "").strip()), line)
    return list(corrections.values())


def corrections_csv(corrections: Sequence[Correction]) -> bytes:
    """A corrections file's bytes: ``rec_id,theme_id,note``, UTF-8 with BOM (Korean Excel); header only if empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    # A note starts with the project's file name, which may start like a formula (=1+2.qdpx).
    writer.writerows((csv_text(c.rec_id), csv_text(c.theme_id), csv_text(c.note)) for c in corrections)
    return buffer.getvalue().encode("utf-8-sig")


def check_corrections(corrections: Sequence[Correction], path: str | os.PathLike,
                      theme_labels: Mapping[str, str], rec_ids: Sequence[str]) -> list[Correction]:
    """The corrections that apply to a round; out: those whose ``rec_id`` is among ``rec_ids``.

    In: the file's corrections, its path (for messages), the known themes (id → label: the
    codebook's and the model's or run's) and the round's rec_ids. A ``theme_id`` that is not
    a known theme raises ``InputError`` naming the file and line, whether or not its unit is
    in this round; rec_ids outside the round are logged in one warning line.
    """
    for c in corrections:
        if c.theme_id not in theme_labels:
            raise InputError(str(path), f"line {c.line}: theme_id {c.theme_id!r} is neither in the codebook nor "
                                        f"among the run's themes ({', '.join(sorted(theme_labels))})")
    in_round = set(rec_ids)
    unknown = [c.rec_id for c in corrections if c.rec_id not in in_round]
    if unknown:
        shown = ", ".join(unknown[:_SHOWN_UNKNOWN]) + (" …" if len(unknown) > _SHOWN_UNKNOWN else "")
        log.warning("%s: %d of %d corrected rec_ids are not in this round and were ignored: %s",
                    path, len(unknown), len(corrections), shown)
    return [c for c in corrections if c.rec_id in in_round]


def apply_corrections(assignments: Sequence[Assignment], corrections: Sequence[Correction],
                      theme_labels: Mapping[str, str]) -> list[Assignment]:
    """Assignments with the corrected units re-themed; the input is not changed.

    A corrected unit gets the researcher's ``theme_id``, its label from ``theme_labels``,
    ``theme_score`` 1.0, ``theme_source`` ``researcher``, no runner-up or margin and
    ``needs_review`` false; every other assignment is
    returned as it was, in the same order. Corrections naming no assignment are ignored
    (:func:`check_corrections` reports them).
    """
    by_rec = {c.rec_id: c for c in corrections}
    out = []
    for a in assignments:
        c = by_rec.get(a.rec_id)
        if c is None:
            out.append(a)
        else:
            # The model's runner-up and margin were about its own choice; a decided unit needs no review.
            out.append(replace(a, theme_id=c.theme_id, theme_label=theme_labels[c.theme_id],
                               theme_score=RESEARCHER_SCORE, theme_source=RESEARCHER,
                               theme_runner_up="", theme_margin=None, needs_review=False))
    return out
