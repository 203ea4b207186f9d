"""Real documents: each file's Hangul recall against an independent reader, in units and unplaced lines, and in
units alone.

``python -m bench.quality.real_docs`` reads every file of ``tests/fixtures/real/`` that is here (the documents
are not distributed with the project: its README says how to fetch them; each is checked against the
manifest's SHA-256) as ``advisory parse`` does. **Recall** is the share of the Hangul syllables an independent
reader finds in the body that our reader puts in units or unplaced lines (multiset intersection, so a
syllable counts as often as it occurs), and the same share in units alone. The independent readers:
pyhwp's ``hwp5proc xml`` for HWP (every ``Text`` of the body, table cells included, page headers and footers
left out; pyhwp is AGPL and no dependency: install it in a venv of its own and point ``HWP5PROC`` at it, or
have it on PATH), python-hwpx's ``TextExtractor`` for HWPX, poppler's ``pdftotext`` for PDF. Page headers and
footers are not body text, but ``pdftotext`` keeps them, so a PDF that is the same document as an HWP or HWPX
file (``same_document_as`` in the manifest) is measured against that file's reader, and against ``pdftotext``
as well. A file whose reader is not installed gets a row saying so. Goal (issue 22): units + unplaced ≥ 0.99
on every readable file; units alone ≥ 0.95 on at least nine files in ten.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench.lib.real_docs import FOLDER, available, hangul, read_and_parse, recall
from bench.lib.results import Recorder, add_output_options
from bench.lib.tables import Column, figure, table, text
from pipeline.core.errors import InputError
from pipeline.read.documents import content_format

READER_NAMES = {"hwp": "hwp5proc", "hwpx": "python-hwpx", "pdf": "pdftotext"}


def reference_text(path: Path, fmt: str) -> str | None:
    """The independent reader's text of ``path`` read as ``fmt`` (None when that reader is not installed)."""
    if fmt == "hwp":
        tool = os.environ.get("HWP5PROC") or shutil.which("hwp5proc")
        if tool is None:
            return None
        xml = subprocess.run([tool, "xml", str(path)], capture_output=True, check=True).stdout
        return _hwp5_body_text(xml)
    if fmt == "pdf":
        if shutil.which("pdftotext") is None:
            return None
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if fmt == "hwpx":
        from hwpx.tools.text_extractor import TextExtractor

        with TextExtractor(str(path)) as extractor:
            return extractor.extract_text()
    return None


def _hwp5_body_text(xml: bytes) -> str:
    """The ``Text`` elements of pyhwp's XML of a document's sections, page headers and footers left out."""
    from lxml import etree

    texts = []
    for element in etree.fromstring(xml).iter("Text"):
        ancestors = [a.tag for a in element.iterancestors()]
        if "BodyText" in ancestors and not any(tag in ("Header", "Footer") for tag in ancestors):
            texts.append(element.text or "")
    return "\n".join(texts)


def _references(row: dict[str, str], fmt: str) -> list[tuple[str, Path, str]]:
    """(name, file, format) of each reference a file is measured against: the same document's own file first."""
    found = [(READER_NAMES[fmt], FOLDER / row["file"], fmt)]
    other = row["same_document_as"]
    if other:
        other_fmt = content_format((FOLDER / other).read_bytes()) or Path(other).suffix.lstrip(".")
        found.insert(0, (f"{READER_NAMES[other_fmt]} of the {other_fmt.upper()}", FOLDER / other, other_fmt))
    return found


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: measure every real document that is here; record block ``real-docs-recall``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    present, absent = available()
    if not present:
        raise SystemExit(f"no real documents in {FOLDER}: tests/fixtures/real/README.md says how to fetch them")
    rows, body_recall, unit_recall = [], {}, {}
    for row in present:
        name = row["file"]
        try:
            reading = read_and_parse(FOLDER / name)
        except InputError as error:
            rows.append([name, "", None, None, None, f"refused: {error.reason}", None, None, None])
            continue
        for reference, path, fmt in _references(row, reading.format):
            ref_text = reference_text(path, fmt)
            cells: list[object] = [reference, None, "(not installed)", None]
            if ref_text is not None:
                ref = hangul(ref_text)
                cells = [reference, sum(ref.values()), recall(reading.everything, ref), recall(reading.in_units, ref)]
                # The first reference is the body's (page furniture left out): the figure the goal is about.
                body_recall.setdefault(name, cells[2])
                unit_recall.setdefault(name, cells[3])
            rows.append([name, reading.format, reading.lines, reading.units, reading.unplaced_lines, *cells])
    columns = [Column("file"), Column("format"), figure("lines", "{:,}"), figure("units", "{:,}"),
               figure("unplaced lines", "{:,}"), Column("reference"), figure("reference Hangul", "{:,}"),
               figure("recall (units + unplaced)", "{:.3f}"), figure("recall (units)", "{:.3f}")]
    n = len(body_recall)
    kept = sum(value >= 0.95 for value in unit_recall.values())
    verdict = (f"{n} readable documents measured against their body reference: units + unplaced lowest "
               f"{min(body_recall.values()):.3f} (goal >= 0.99 on every one); units alone >= 0.95 on {kept} of {n} "
               f"(goal: nine in ten), lowest {min(unit_recall.values()):.3f}.")
    if absent:
        verdict += f" Not here, so not measured: {', '.join(absent)}."
    recorder.record("real-docs-recall", "Hangul recall of the real documents against independent readers",
                    [table(columns, rows), text(verdict)],
                    data={"body_recall": body_recall, "unit_recall": unit_recall})


if __name__ == "__main__":
    main()
