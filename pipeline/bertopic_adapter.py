"""How the pipeline talks to BERTopic: term documents, the embedding backend, one model factory.

The theme model (discovery) and the labeler (keywords on fixed themes) both build their BERTopic
here, so the two cannot drift apart. BERTopic itself is imported inside the functions: it pulls
in torch-sized dependencies that ``advisory parse`` does not need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# BERTopic's c-TF-IDF joins all documents of a topic into one string and tokenizes that string.
# Kiwi's analysis of one long string is superlinear in its length (a theme of 16k units: minutes),
# so BERTopic is handed each unit's terms, already computed, as a "term document" that a plain
# split takes apart in linear time, joined or not. The separator cannot occur in Kiwi terms.
TERM_SEPARATOR = "\x1f"


def term_document(terms: Sequence[str]) -> str:
    """One unit's terms as a document for BERTopic; never empty (BERTopic renames "" to "emptydoc")."""
    return "".join(term + TERM_SEPARATOR for term in terms) or TERM_SEPARATOR


def split_term_document(document: str) -> list[str]:
    """The terms of a term document, or of several joined by spaces (BERTopic's per-topic join)."""
    return [term for term in (part.strip() for part in document.split(TERM_SEPARATOR)) if term]


def bertopic_backend(encode: Callable[[list[str]], np.ndarray]):
    """A BERTopic embedding backend that embeds with ``encode`` (texts -> vectors).

    Handing BERTopic a backend (rather than only precomputed vectors) keeps it from falling back
    to ``language="english"``, which strips every non-ASCII character from topic words.
    """
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):
        def embed(self, documents, verbose: bool = False) -> np.ndarray:
            return np.asarray(encode(list(documents)))

    return _Backend()


def _class_tfidf(reduce_frequent_words: bool):
    """BERTopic's c-TF-IDF, made to accept a one-term vocabulary (a round whose units share one term).

    BERTopic squeezes the document frequencies into a scalar when the vocabulary has one term,
    which scipy's ``diags`` rejects (``object of type 'numpy.float64' has no len()``); the one
    weight is computed here by the same formula instead.
    """
    import scipy.sparse as sp
    from bertopic.vectorizers import ClassTfidfTransformer

    class _ClassTfidf(ClassTfidfTransformer):
        def fit(self, X, multiplier: np.ndarray | None = None):
            if X.shape[1] != 1 or not self.use_idf:
                return super().fit(X, multiplier)
            X = sp.csr_matrix(X, dtype=np.float64)
            df = float(X.sum())
            avg_nr_samples = int(X.sum(axis=1).mean())
            if self.bm25_weighting:
                idf = np.log(1 + ((avg_nr_samples - df + 0.5) / (df + 0.5)))
            else:
                idf = np.log((avg_nr_samples / df) + 1)
            if multiplier is not None:
                idf = idf * float(np.ravel(multiplier)[0])
            self._idf_diag = sp.csr_matrix(np.array([[idf]], dtype=np.float64))
            return self

    return _ClassTfidf(reduce_frequent_words=reduce_frequent_words)


def make_bertopic(encode: Callable[[list[str]], np.ndarray], n_keywords: int, reducer=None, clusterer=None):
    """A BERTopic over term documents (:func:`term_document`) with Kiwi-ready c-TF-IDF.

    ``encode`` is the embedding backend (:func:`bertopic_backend`); ``reducer``/``clusterer`` are
    BERTopic's ``umap_model``/``hdbscan_model`` (``None``: none, i.e. the labels are given to
    ``fit``, as the labeler does). ``reduce_frequent_words`` sinks words common to every theme.
    """
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from sklearn.feature_extraction.text import CountVectorizer

    return BERTopic(
        language="multilingual",
        embedding_model=bertopic_backend(encode),
        umap_model=reducer if reducer is not None else BaseDimensionalityReduction(),
        hdbscan_model=clusterer if clusterer is not None else BaseCluster(),
        vectorizer_model=CountVectorizer(analyzer=split_term_document, lowercase=False),
        ctfidf_model=_class_tfidf(reduce_frequent_words=True),
        top_n_words=n_keywords,
        calculate_probabilities=False,
    )
