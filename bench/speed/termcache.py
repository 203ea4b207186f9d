"""Kiwi term-cache benchmark: a warm lookup in a large cache, the cache's size on disk, and what storing costs.

``python -m bench.speed.termcache [--others 100000] [--cold-units 2000] [--no-save]``

- ``cold``: the distinct unit texts of a synthetic round of ``--cold-units`` units (``bench.lib.synth``)
  analysed by Kiwi (its model load timed apart), then stored into an empty cache as
  ``KiwiTokenizer`` stores them (sha256 keys, ``CACHE_CHUNK`` texts per ``put``).
- ``fill``: ``--others`` more analyses under other keys, made by rule: the k-th is the tokens of cold
  text ``k mod n`` under the key sha256("other k"), so every row has the size of a real analysis
  (rows are compressed one by one, so repeating analyses does not shrink the file).
- ``warm``: three fresh processes each build a ``KiwiTokenizer`` over that cache and look the bundled
  round's unit texts up: the cache's ``get`` alone, then ``tokenize_batch`` (lookup + terms). Wall
  times, growth of the peak RSS over the lookups (Linux: ``VmHWM`` reset before them), and
  tracemalloc's peak in a fourth process; the lookups must build no Kiwi.

The table is block ``termcache`` of ``bench/results/termcache.json`` (not written with ``--no-save``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import synthetic_round
from bench.lib.tables import Column, cell, figure, table
from pipeline.core.paths import DEFAULT_ROUND
from pipeline.features.termcache import TermCache, analysis_id
from pipeline.features.tokenizer import CACHE_CHUNK, KiwiTokenizer
from pipeline.read.rounds import load_units

WARM = """
import hashlib, json, sys, time, tracemalloc
from pipeline.features.termcache import TermCache
from pipeline.features.tokenizer import KiwiTokenizer
texts, folder, analysis, trace = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2], sys.argv[3], sys.argv[4]
keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
def status_kb(field):
    return int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith(field + ":")))
# Reset the peak (VmHWM) to the current RSS, so the imports' peak does not hide the lookup's.
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
before = status_kb("VmRSS")
if trace == "trace":
    tracemalloc.start()
start = time.perf_counter()
found = TermCache(folder).get(analysis, keys)
got = time.perf_counter()
tok = KiwiTokenizer(cache=TermCache(folder))
tok.tokenize_batch(texts)
done = time.perf_counter()
peak = tracemalloc.get_traced_memory()[1] if trace == "trace" else 0
growth = status_kb("VmHWM") - before
print(json.dumps({"found": len(found), "get_s": got - start, "tokenize_s": done - got,
                  "kiwi_built": tok._kiwi is not None, "rss_growth_kb": growth, "traced_peak": peak}))
"""


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _warm(texts_file: Path, folder: Path, analysis: str, trace: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", WARM, str(texts_file), str(folder), analysis,
                           "trace" if trace else "plain"], capture_output=True, text=True, check=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout)


def bench(others: int, cold_units: int, work: Path) -> dict:
    """Run the three steps in the empty folder ``work``; a result table."""
    folder = work / "cache"
    tok = KiwiTokenizer()
    analysis = analysis_id([(e.word, e.tag, e.score) for e in tok._kiwi_order()])
    cold_texts = sorted({u.text for u in load_units([synthetic_round(work, cold_units, seed=1)])})

    start = time.perf_counter()
    tok._get_kiwi()
    kiwi_load = time.perf_counter() - start
    start = time.perf_counter()
    analyses = tok._analyse(cold_texts)
    kiwi_s = time.perf_counter() - start
    cache = TermCache(folder)
    start = time.perf_counter()
    for first in range(0, len(cold_texts), CACHE_CHUNK):
        chunk = cold_texts[first : first + CACHE_CHUNK]
        cache.put(analysis, [_key(text) for text in chunk], analyses[first : first + CACHE_CHUNK])
    put_s = time.perf_counter() - start

    start = time.perf_counter()
    for first in range(0, others, CACHE_CHUNK):
        ks = range(first, min(first + CACHE_CHUNK, others))
        cache.put(analysis, [_key(f"other {k}") for k in ks], [analyses[k % len(analyses)] for k in ks])
    fill_s = time.perf_counter() - start

    round_texts = [u.text for u in load_units([DEFAULT_ROUND])]
    KiwiTokenizer(cache=TermCache(folder)).tokenize_batch(round_texts)
    database = cache.path(analysis)
    rows = len(cold_texts) + others + len(set(round_texts))
    size = database.stat().st_size
    tokens = sum(map(len, analyses))

    texts_file = work / "round_texts.json"
    texts_file.write_text(json.dumps(round_texts, ensure_ascii=False), encoding="utf-8")
    runs = [_warm(texts_file, folder, analysis, trace=False) for _ in range(3)]
    traced = _warm(texts_file, folder, analysis, trace=True)
    if any(run["kiwi_built"] for run in [*runs, traced]) or traced["found"] != len(set(round_texts)):
        raise SystemExit("bench_termcache: the warm lookup missed the cache")

    def median(field: str) -> float:
        return statistics.median(run[field] for run in runs)

    per_text = size / rows
    measures = [
        ["cold: Kiwi model load + user dictionary, s", kiwi_load],
        [f"cold: Kiwi analysis of {len(cold_texts):,} distinct unit texts ({cold_units:,} units, "
         f"{tokens / len(cold_texts):.0f} tokens each), s", kiwi_s],
        ["cold: hashing + encoding + storing them, s (share of the analysis)",
         cell([put_s, put_s / kiwi_s], "{:.2f} ({:.1%})")],
        [f"fill: storing {others:,} more analyses, s", cell(fill_s, "{:.1f}")],
        ["database rows / file size", cell([rows, size / 2**20], "{:,} / {:.1f} MiB")],
        ["disk per 100k units", cell([per_text * 100_000 / 2**20, per_text, per_text / (tokens / len(cold_texts))],
                                     "{:.0f} MiB ({:.0f} B per text, {:.1f} B per token)")],
        [f"warm, fresh process: `get` of the bundled round's {len(round_texts)} texts, s (median of 3)",
         cell(median("get_s"), "{:.4f}")],
        ["warm: then `tokenize_batch` of them (second lookup + terms), s", cell(median("tokenize_s"), "{:.4f}")],
        ["warm: peak RSS growth over both, MiB (median of 3)", cell(median("rss_growth_kb") / 1024, "{:.1f}")],
        ["warm: tracemalloc peak over both, MiB", cell(traced["traced_peak"] / 2**20, "{:.2f}")],
    ]
    return table([Column("measure"), figure("value", "{:.2f}")], measures)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--others", type=int, default=100_000, help="analyses of other texts in the cache")
    ap.add_argument("--cold-units", type=int, default=2000, help="units of the synthetic round analysed cold")
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    with tempfile.TemporaryDirectory(prefix="bench-termcache-") as work:
        body = bench(args.others, args.cold_units, Path(work))
    recorder.record("termcache", "Kiwi term cache: warm lookup in a large cache, size, cold cost", [body])


if __name__ == "__main__":
    main()
