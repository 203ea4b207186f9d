"""Small builders for parser tests: text -> Document -> units, without touching the disk."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.records import Document, Line, Unit
from pipeline.read.markers import Classified, classify_line
from pipeline.read.parser import ParsedDocument, StructureParser, promote_outermost_lists
from pipeline.read.programs import ProgramMapper, ProgramRegistry

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
GOLD = ROOT / "corpus" / "eval" / "seed_gold.csv"


def doc_from_text(text: str, path: str = "doc.txt") -> Document:
    lines = tuple(Line(t, n) for n, t in enumerate(text.split("\n"), start=1))
    return Document(path, lines, "txt", "0" * 64)


def parse_text(text: str, path: str = "doc.txt") -> ParsedDocument:
    return StructureParser().parse(doc_from_text(text, path))


def units_from_text(text: str, path: str = "doc.txt") -> list[Unit]:
    return ProgramMapper(ProgramRegistry.load()).transform(list(parse_text(text, path).units))


def squash(s: str) -> str:
    return "".join(s.split())


def placed_and_unplaced(parsed: ParsedDocument) -> list[str]:
    """Every text the parser placed: unit texts and leads, the headings units stand under (those not listed
    as unplaced), and the unplaced stretches. Each line's words should be in exactly one of them."""
    spans = [(s.line_start, s.line_end) for s in parsed.unplaced]
    used = [text for _, text, line in parsed.headers if not any(a <= line <= b for a, b in spans)]
    return [*(u.text for u in parsed.units), *(u.lead for u in parsed.units), *used,
            *(s.text for s in parsed.unplaced)]


def classified_lines(texts: list[str]) -> list[Classified]:
    """Each line's kind as the parser reads it in a document of ``texts``: in a member's block without ``ㅇ/○``
    marks, the items of its outermost list are recommendations, their enumerators structure."""
    return promote_outermost_lists([classify_line(t) for t in texts])


def content_lines(texts: list[str]) -> list[str]:
    """``texts`` without the enumerators that are structure (an item promoted to a unit: ``1)``, ``가.``);
    what the parser must place, every character of it, in a unit, a heading or the unplaced list."""
    as_written = [classify_line(t) for t in texts]
    read = promote_outermost_lists(as_written)
    return [raw.replace(c.mark, "", 1) if w.kind == "sub" and c.kind == "rec" else raw
            for raw, w, c in zip(texts, as_written, read, strict=True)]
