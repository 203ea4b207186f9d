"""Line joins between two Hangul syllables: how often is the break a word break, by format?

``python -m bench.quality.wrap_joins`` reads every real document of ``tests/fixtures/real/`` that is here, the
blind rounds and the bundled round, and looks at each pair of consecutive lines that the parser may join where
the first ends in a Hangul syllable with no space after it and the next begins with one. Such a join is either a
wrap inside a word (``게스트`` / ``하우스``), to be glued, or a break between two words, to take a space. The
judge is Kiwi's spacing model (``Kiwi.space`` on the twelve characters either side of the break): not a gold
coding, but a reader with no stake in the rule. Read per format, it says where the old rule (glue every such
join) was right: text copied from a PDF wraps inside words, a word processor's paragraph never does, which is
why ``pipeline.read.parser.WHOLE_PARAGRAPH_FORMATS`` join with a space.
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from collections import Counter
from collections.abc import Sequence

from bench.lib.paths import ROOT
from bench.lib.real_docs import FOLDER, available
from bench.lib.results import Recorder, add_output_options
from bench.lib.tables import figure, table, text
from pipeline.core.errors import InputError
from pipeline.read.documents import read_document
from pipeline.read.wrapping import glue

CONTEXT = 12


def joins(lines: Sequence[str]) -> list[tuple[str, str]]:
    """The (end of a line, start of the next) pairs that the parser's rule for text and PDF glues
    (:func:`pipeline.read.wrapping.glue`: two Hangul syllables with no space between them)."""
    return [(prev.strip()[-CONTEXT:], nxt.strip()[:CONTEXT])
            for prev, nxt in itertools.pairwise(lines) if glue(prev, nxt.strip()) == ""]


def kiwi_breaks(pairs: Sequence[tuple[str, str]]) -> list[bool]:
    """Per pair, whether Kiwi's spacing puts a space at the join."""
    from kiwipiepy import Kiwi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        kiwi = Kiwi(num_workers=0)
    out = []
    for head, tail in pairs:
        spaced = kiwi.space(head + tail, reset_whitespace=False)
        letters, seen = len(head.replace(" ", "")), 0
        for i, ch in enumerate(spaced):
            seen += not ch.isspace()
            if seen == letters:
                out.append(spaced[i + 1:i + 2] == " ")
                break
    return out


def measure() -> dict:
    present, _ = available()
    files = [FOLDER / row["file"] for row in present]
    files += sorted((ROOT / "bench" / "rounds" / "blind").glob("*.txt"))
    files += sorted((ROOT / "corpus" / "rounds").glob("*"))
    pairs: dict[str, list] = {}
    for path in files:
        try:
            document = read_document(path)
        except InputError:
            continue
        pairs.setdefault(document.format, []).extend(joins([line.text for line in document.lines]))
    rows = []
    for fmt in sorted(pairs):
        verdicts = Counter(kiwi_breaks(pairs[fmt]))
        total = sum(verdicts.values())
        rows.append([fmt, total, verdicts[True], verdicts[False] / total if total else float("nan")])
    columns = [figure("format", "{}"), figure("joins", "{}"), figure("word breaks (Kiwi)", "{}"),
               figure("glue right", "{:.0%}")]
    return table(columns, rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    recorder.record("wrap-joins", "Joins between two Hangul syllables, by format, judged by Kiwi's spacing",
                    [measure(), text("`glue right`: the share of joins where gluing (the rule for text and PDF) "
                                     "agrees with Kiwi.")])


if __name__ == "__main__":
    main()
