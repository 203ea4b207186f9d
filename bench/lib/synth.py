"""Synthetic advisory rounds of any size, made from varied seed material.

``python -m bench.lib.synth N OUT.txt [--seed S]`` writes a round of N recommendation units in the
seed's format: member blocks, agenda items, question headings, ``ㅇ`` recommendations with dash
sub-points and ``※`` notes, hard-wrapped lines with blank lines between them. Sentences are
recombined from the seed's units (intro of one, sub-points of others, shuffled clauses), so the
vocabulary is realistic. Recombinations can coincide: about one unit text in nine repeats another
(8,892 distinct texts in a 10k round), as real rounds repeat boilerplate; the embedding cache
embeds each distinct text once.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

from bench.lib.results import Recorder, add_output_options
from pipeline.core.paths import DEFAULT_ROUND
from pipeline.core.records import Document, Line
from pipeline.read.markers import MARKER_CHARS
from pipeline.read.parser import StructureParser

SEED = DEFAULT_ROUND
AGENDAS = ("❶ 서울시 지역상생교류 추진", "❷ ’24년 지역연계형 청년 창업 지원사업(넥스트로컬)")


def _material() -> tuple[list[str], list[str], list[str], list[str]]:
    lines = tuple(Line(t, n) for n, t in enumerate(SEED.read_text(encoding="utf-8").split("\n"), 1))
    units = StructureParser().parse(Document(str(SEED), lines, "txt", "")).units
    intros = [u.text.split(" - ")[0].split(" ※ ")[0] for u in units]
    subs = [s[2:] for u in units for s in u.subpoints if s.startswith("- ")]
    notes = [n for u in units for n in u.notes]
    questions = sorted({u.question for u in units})
    return intros, subs, notes, questions


def _wrap(text: str, width: int, rng: random.Random) -> list[str]:
    """Hard-wrap like an HWP export: a line break every ``width`` characters, blank lines between."""
    out = []
    while len(text) > width:
        cut = width + rng.randint(-8, 8)
        # Never wrap right before a marker: the next line would start a new unit or heading.
        while cut < len(text) and (text[cut] in MARKER_CHARS or text[cut].isspace() or text[cut] in "ㅇo"):
            cut += 1
        out.append(text[:cut])
        out.append("")
        text = text[cut:]
    out.append(text)
    return out


def _recombine(sentence: str, rng: random.Random) -> str:
    clauses = sentence.split(", ")
    if len(clauses) > 1:
        rng.shuffle(clauses)
    words = ", ".join(clauses).split(" ")
    if len(words) > 6:
        k = rng.randrange(len(words) - 3)
        words[k], words[k + 1] = words[k + 1], words[k]
    return " ".join(words)


def synth_round(n_units: int, seed: int = 0) -> str:
    """A round of exactly ``n_units`` recommendations in advisory format."""
    rng = random.Random(seed)
    intros, subs, notes, questions = _material()
    out: list[str] = ["붙 임  위원별 자문내용", ""]
    made = 0
    while made < n_units:
        out += ["", "□ ○○○ 위원", ""]
        for agenda in AGENDAS:
            # No heading after the last unit: the round ends with it, so headings with nothing under them
            # (unplaced lines, or units when a numbered one reads as prose) never change what is measured.
            if made == n_units:
                break
            out += [agenda]
            for question in rng.sample(questions, k=min(2, len(questions))):
                if made == n_units:
                    break
                out += [f"[ {question} ]", ""]
                for _ in range(rng.randint(1, 4)):
                    if made == n_units:
                        break
                    out += _wrap(" ㅇ " + _recombine(rng.choice(intros), rng), 70, rng)
                    for _ in range(rng.randint(0, 3)):
                        out += _wrap("   - " + _recombine(rng.choice(subs), rng), 70, rng)
                    if notes and rng.random() < 0.3:
                        out += ["     ※ " + rng.choice(notes)]
                    out.append("")
                    made += 1
    return "\n".join(out) + "\n"


def novel_round(n_units: int, seed: int, tag: str) -> str:
    """A synthetic round whose every unit text is new: each recommendation starts with a numbered tag.

    ``synth_round`` recombines seed sentences, and a short single-clause intro without sub-points
    comes out unchanged, so about one unit in ten repeats a text of another round; the cache rightly
    embeds those once. To count "a new round embeds exactly its units", every unit must be new.
    """
    lines = synth_round(n_units, seed).split("\n")
    k = 0
    for i, line in enumerate(lines):
        if line.startswith(" ㅇ "):
            k += 1
            lines[i] = f" ㅇ 신규과제 {tag}{k:05d}: {line[3:]}"
    return "\n".join(lines)


def synthetic_study(module: str, description: str,
                    argv: Sequence[str] | None) -> tuple[argparse.Namespace, Recorder]:
    """The command line of a study over a synthetic round (``N_UNITS``, default 10,000, and the output options)
    parsed from ``argv``, and the recorder of the study ``module``'s results."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("n_units", type=int, nargs="?", default=10_000, help="units of the synthetic round")
    add_output_options(ap)
    args = ap.parse_args(argv)
    return args, Recorder(module, args, argv)


def main() -> None:
    """Command line: write a synthetic round of N units to OUT."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n_units", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(synth_round(args.n_units, args.seed), encoding="utf-8")


if __name__ == "__main__":
    main()
