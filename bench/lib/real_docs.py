"""The real-document set of ``tests/fixtures/real``: its manifest, which of its files are here, and what
reading one gives (lines, units, unplaced lines, their Hangul, the time taken).

The documents themselves are not part of the project: they come from other public repositories and are
kept by whoever fetched them (``tests/fixtures/real/README.md`` says how); only ``MANIFEST.csv`` is tracked.
So every user of the set asks :func:`available` which files are here, and a file whose SHA-256 differs
from the manifest's is an error, never a figure. ``quality.real_docs`` and ``speed.real_docs_pdf`` measure
with this module, and ``tests/read/test_documents_real.py`` reads the same files through it.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.lib.paths import ROOT

FOLDER = ROOT / "tests" / "fixtures" / "real"
MANIFEST = FOLDER / "MANIFEST.csv"
#: The files of the folder that are the project's own (tracked); every other file is a fetched document.
TRACKED = frozenset({"MANIFEST.csv", "README.md"})


class ChecksumMismatch(ValueError):
    """A real document whose bytes are not the ones the manifest names."""


def manifest(path: Path = MANIFEST) -> list[dict[str, str]]:
    """The manifest's rows: file, repository, path, commit, license, sha256, same_document_as, what."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def available(rows: Iterable[dict[str, str]] | None = None, folder: Path = FOLDER) -> tuple[list[dict], list[str]]:
    """The manifest rows whose file is in ``folder`` (each checked against its SHA-256), and the names of the
    files that are not there. Raises :class:`ChecksumMismatch` naming every file whose bytes differ."""
    present, absent, wrong = [], [], []
    for row in manifest() if rows is None else rows:
        path = folder / row["file"]
        if not path.is_file():
            absent.append(row["file"])
        elif sha256(path) != row["sha256"]:
            wrong.append(row["file"])
        else:
            present.append(row)
    if wrong:
        raise ChecksumMismatch(f"{folder}: not the manifest's bytes (SHA-256 differs): {', '.join(wrong)}")
    return present, absent


def hangul(text: str) -> Counter:
    """The Hangul syllables of ``text``, each with how often it occurs."""
    return Counter(ch for ch in text if "가" <= ch <= "힣")


def recall(found: Counter, reference: Counter) -> float:
    """The share of ``reference``'s syllables that ``found`` holds (multiset intersection), NaN for none."""
    total = sum(reference.values())
    return sum(min(n, found[ch]) for ch, n in reference.items()) / total if total else float("nan")


@dataclass(frozen=True)
class Reading:
    """One real document read and parsed as ``advisory parse`` does."""

    format: str
    pages: int
    lines: int
    units: int
    unplaced_lines: int
    seconds: float
    everything: Counter  # the Hangul of every line the reader gave
    in_units: Counter  # the same less what is in unplaced lines


def read_and_parse(path: Path, repeat: int = 1) -> Reading:
    """Read and parse ``path`` ``repeat`` times; the best time, and what the last reading gave.

    Raises :class:`~pipeline.core.errors.InputError` for a file the pipeline refuses.
    """
    from pipeline.read.documents import read_document
    from pipeline.read.parser import StructureParser

    parser = StructureParser()
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        document = read_document(path)
        parsed = parser.parse(document)
        best = min(best, time.perf_counter() - started)
    unplaced = hangul("\n".join(stretch.text for stretch in parsed.unplaced))
    every = hangul("\n".join(line.text for line in document.lines))
    return Reading(
        format=document.format,
        pages=max((line.page or 0 for line in document.lines), default=0),
        lines=sum(1 for line in document.lines if line.text.strip()),
        units=len(parsed.units),
        unplaced_lines=sum(1 for s in parsed.unplaced for line in s.text.split("\n") if line.strip()),
        seconds=best,
        everything=every,
        in_units=every - unplaced,
    )
