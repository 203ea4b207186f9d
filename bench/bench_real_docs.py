"""Real documents: Hangul recall against an independent reader, and PDF against the same document as HWP.

``python bench/bench_real_docs.py [--repeat N]`` reads every file of ``tests/fixtures/real/`` (see its
``MANIFEST.csv``) as ``advisory parse`` does and reports, per file:

* **recall**: the share of the Hangul syllables an independent reader finds in the body that our reader puts
  in units or unplaced lines (multiset intersection, so a syllable counts as often as it occurs), and the same
  share in units alone. The independent readers are pyhwp's ``hwp5proc xml`` for HWP (every ``Text`` of the
  body, table cells included, page headers and footers left out; pyhwp is AGPL and not a dependency: install
  it in a venv of its own and point ``HWP5PROC`` at it, or have it on PATH), python-hwpx's
  ``TextExtractor`` for HWPX and poppler's ``pdftotext`` for PDF; a file whose reader is missing is skipped.
  Page headers and footers are not body text, but ``pdftotext`` keeps them: a PDF that is the same document
  as an HWP or HWPX file (``same_document_as`` in the manifest) is measured against that file's independent
  reader, and against ``pdftotext`` as well.
* **time**: seconds to read and parse the file (best of ``--repeat``), and for each PDF the ratio to the same
  document as HWP or HWPX (``same_document_as`` in the manifest), both timed in this one run.

Tables go to the terminal and to ``bench/out/real_docs.md``.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.core.errors import InputError  # noqa: E402
from pipeline.read.documents import content_format, read_document  # noqa: E402
from pipeline.read.parser import StructureParser  # noqa: E402

FOLDER = ROOT / "tests" / "fixtures" / "real"
READER_NAMES = {"hwp": "hwp5proc", "hwpx": "python-hwpx", "pdf": "pdftotext"}


def hangul(text: str) -> Counter:
    return Counter(ch for ch in text if "가" <= ch <= "힣")


def reference_text(path: Path, fmt: str) -> str | None:
    """The independent reader's text of ``path`` (None when that reader is not installed)."""
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


def recall(found: Counter, reference: Counter) -> float:
    total = sum(reference.values())
    return sum(min(n, found[ch]) for ch, n in reference.items()) / total if total else float("nan")


def measure(path: Path, parser: StructureParser, repeat: int) -> dict:
    """Read and parse ``path``: timing, lines, units, unplaced lines and the Hangul of each."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        document = read_document(path)
        parsed = parser.parse(document)
        best = min(best, time.perf_counter() - started)
    unplaced = Counter()
    n_unplaced = 0
    for stretch in parsed.unplaced:
        unplaced += hangul(stretch.text)
        n_unplaced += sum(1 for line in stretch.text.split("\n") if line.strip())
    every = hangul("\n".join(line.text for line in document.lines))
    return {"seconds": best, "format": document.format, "lines": sum(1 for ln in document.lines if ln.text.strip()),
            "units": len(parsed.units), "unplaced_lines": n_unplaced, "all": every, "in_units": every - unplaced}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--repeat", type=int, default=5)
    args = cli.parse_args()
    manifest = list(csv.DictReader((FOLDER / "MANIFEST.csv").open(encoding="utf-8")))
    parser = StructureParser()
    results: dict[str, dict] = {}
    rows = ["| file | format | lines | units | unplaced lines | reference | reference Hangul "
            "| recall (units + unplaced) | recall (units) | seconds |",
            "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    formats = {entry["file"]: Path(entry["file"]).suffix.lstrip(".") for entry in manifest}
    for entry in manifest:
        path = FOLDER / entry["file"]
        try:
            result = measure(path, parser, args.repeat)
        except InputError as error:
            rows.append(f"| {entry['file']} | | | | | | | refused: {error.reason} | | |")
            continue
        results[entry["file"]] = result
        references = [(READER_NAMES[result["format"]], path, result["format"])]
        other = entry["same_document_as"]
        if other:
            # The same document's own file: its reader leaves the page headers and footers out.
            references.insert(0, (f"{READER_NAMES[formats[other]]} of {other}", FOLDER / other,
                                  content_format((FOLDER / other).read_bytes()) or formats[other]))
        for name, source, fmt in references:
            text = reference_text(source, fmt)
            if text is None:
                cells = [name, "(not installed)", "", ""]
            else:
                ref = hangul(text)
                cells = [name, f"{sum(ref.values()):,}", f"{recall(result['all'], ref):.3f}",
                         f"{recall(result['in_units'], ref):.3f}"]
            rows.append(f"| {entry['file']} | {result['format']} | {result['lines']:,} | {result['units']} | "
                        f"{result['unplaced_lines']} | {' | '.join(cells)} | {result['seconds']:.3f} |")
    pairs = ["| PDF | pages | seconds | same document | seconds | PDF / other |", "|---|---:|---:|---|---:|---:|"]
    for entry in manifest:
        other = entry["same_document_as"]
        if entry["file"] in results and other in results:
            pdf, base = results[entry["file"]], results[other]
            pages = max((ln.page or 0) for ln in read_document(FOLDER / entry["file"]).lines)
            pairs.append(f"| {entry['file']} | {pages} | {pdf['seconds']:.3f} | {other} | {base['seconds']:.3f} | "
                         f"{pdf['seconds'] / base['seconds']:.2f} |")
    report = "\n".join(["## Hangul recall", "", *rows, "", "## PDF against the same document", "", *pairs, ""])
    print(report)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "real_docs.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
