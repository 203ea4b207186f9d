"""Tokenizer benchmark: ``KiwiTokenizer.tokenize_batch`` against raw kiwipiepy batch tokenization.

``python -m bench.speed.tokenizer [--units N] [--workers 1,2] [--repeat R]`` tokenizes the unit texts
of a synthetic round (``bench.lib.synth``) both ways with the same number of Kiwi workers and the
same user dictionary, and prints units/s and the ratio raw time / wrapper time (the goal is >= 0.8:
the wrapper's term extraction may cost at most a quarter on top of Kiwi's own analysis). It also
times what the pipeline's tokenize stage runs: ``tokenize_views`` making the keyword and the
clustering terms of every text from one analysis.
The two are run alternately and the best of ``R`` is kept, so that a busy moment on the machine
does not land on one side only. The table is block ``tokenizer`` of ``bench/results/tokenizer.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from kiwipiepy import Kiwi

from bench.lib.results import Recorder, add_output_options
from bench.lib.synth import synth_round
from bench.lib.tables import figure, table, text
from pipeline.features.tokenizer import KiwiTokenizer, tokenize_views
from pipeline.read.rounds import load_units


def unit_texts(n_units: int, seed: int = 0) -> list[str]:
    """The texts of the units of a synthetic ``n_units`` round, as the parser makes them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"synthetic_{n_units}.txt"
        path.write_text(synth_round(n_units, seed), encoding="utf-8")
        return [unit.text for unit in load_units([path])]


def raw_kiwi(tokenizer: KiwiTokenizer, workers: int) -> Kiwi:
    """A plain Kiwi with ``workers`` threads and the same user words as ``tokenizer``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        kiwi = Kiwi(num_workers=workers)
    for entry in sorted(tokenizer.entries_, key=lambda e: " " not in e.word):
        kiwi.add_user_word(entry.word, entry.tag, entry.score)
    return kiwi


def _best(fn: Callable[[], object], best: float) -> float:
    start = time.perf_counter()
    fn()
    return min(best, time.perf_counter() - start)


def compare(texts: Sequence[str], workers: int, repeat: int = 3) -> dict[str, float]:
    """Best-of-``repeat`` seconds of raw Kiwi and of the wrapper on ``texts``, and their ratio."""
    tokenizer = KiwiTokenizer(workers=workers)
    views = [tokenizer, KiwiTokenizer(stopwords=None, workers=workers)]
    kiwi = raw_kiwi(tokenizer, workers)
    texts = list(texts)
    # One untimed full pass each: Kiwi's first pass over a corpus runs about twice as slow as the
    # next ones (model pages, allocator and analysis caches warming), which would favour the side
    # that runs second.
    tokenizer.tokenize_batch(texts)
    list(kiwi.tokenize(texts))
    raw = wrapped = both = float("inf")
    for _ in range(repeat):
        # list(): kiwipiepy returns a lazy generator; the analysis happens while it is consumed.
        raw = _best(lambda: list(kiwi.tokenize(texts)), raw)
        wrapped = _best(lambda: tokenizer.tokenize_batch(texts), wrapped)
        both = _best(lambda: tokenize_views(texts, views), both)
    return {
        "workers": workers,
        "units": len(texts),
        "raw_s": raw,
        "wrapper_s": wrapped,
        "raw_units_per_s": len(texts) / raw,
        "wrapper_units_per_s": len(texts) / wrapped,
        "ratio": raw / wrapped,
        "views_s": both,
        "views_ratio": raw / both,
    }


COLUMNS = [figure("workers", "{}"), figure("units", "{:,}"), figure("raw kiwipiepy s", "{:.2f}"),
           figure("wrapper s", "{:.2f}"), figure("raw units/s", "{:,.0f}"), figure("wrapper units/s", "{:,.0f}"),
           figure("raw / wrapper", "{:.2f}"), figure("two views (tokenize stage) s", "{:.2f}"),
           figure("raw / two views", "{:.2f}")]
KEYS = ("workers", "units", "raw_s", "wrapper_s", "raw_units_per_s", "wrapper_units_per_s", "ratio", "views_s",
        "views_ratio")


def result_table(rows: Sequence[dict[str, float]]) -> dict:
    """The comparison as a result table (one row per number of workers)."""
    return table(COLUMNS, [[r[key] for key in KEYS] for r in rows])


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: print the comparison table and record it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=5000, help="units in the synthetic round (default 5000)")
    ap.add_argument("--workers", default="1,2", help="comma-separated Kiwi worker counts (default 1,2)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per side, best kept (default 3)")
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    texts = unit_texts(args.units)
    rows = [compare(texts, int(w), args.repeat) for w in args.workers.split(",")]
    recorder.record("tokenizer", "Tokenizer wrapper against raw kiwipiepy",
                    [result_table(rows), text("Goal: raw / wrapper >= 0.8.")])


if __name__ == "__main__":
    main()
