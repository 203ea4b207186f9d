"""The tfidf embedder: TF-IDF over Kiwi terms reduced by SVD, fitted vectors reused, refits replacing them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.features.embedders import (
    TfidfEmbedder,
)
from pipeline.features.tokenizer import KiwiTokenizer
from tests.support.vectors import PARK, SALES_A, assert_unit_rows


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


def _tfidf_reference(tokenizer: KiwiTokenizer, fit_texts: list[str], texts: list[str], k: int) -> np.ndarray:
    """Vectors as TfidfEmbedder computed them before it kept its fitted vectors: one TfidfVectorizer,
    an SVD fitted on its fit_transform, and every encoded text tokenized and transformed."""
    vectorizer = TfidfVectorizer(analyzer=lambda tokens: tokens, sublinear_tf=True, dtype=np.float32)
    svd = TruncatedSVD(k, random_state=0).fit(vectorizer.fit_transform(tokenizer.tokenize_batch(fit_texts)))
    vectors = np.array(svd.transform(vectorizer.transform(tokenizer.tokenize_batch(texts))), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=vectors, where=norms > 0)


def test_tfidf_embedder(tfidf, seed_paragraphs):
    vectors = tfidf.encode(seed_paragraphs[:10])
    assert_unit_rows(vectors, 10)
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
