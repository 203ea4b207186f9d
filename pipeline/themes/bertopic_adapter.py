"""How the pipeline talks to BERTopic: term documents, the embedding backend, one model factory, and
BERTopic's c-TF-IDF keywords computed without BERTopic.

The theme model (discovery) and the labeler (keywords on fixed themes) both build their BERTopic
here, so the two cannot drift apart. BERTopic itself is imported inside the functions: importing
any part of it imports UMAP (and numba), seconds that a codebook run does not need. That run's
theme keywords come from :func:`class_tfidf_keywords`, the computation BERTopic's ``fit`` with
fixed labels does for its topic words, step for step, so the keywords are the same to the byte
(``tests/test_byte_identity.py``); a BERTopic model is fitted only where one is kept or clusters.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

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


def _sorted_topics(labels: np.ndarray) -> dict[int, int]:
    """BERTopic's renumbering of topics by size (``_sort_mappings_by_frequency``): label -> topic, -1 kept.

    The same pandas sort as BERTopic's, so topics of equal size are numbered as BERTopic numbers them.
    """
    sizes = pd.DataFrame(Counter(labels.tolist()).items(), columns=["Old_Topic", "Size"]).sort_values(
        "Size", ascending=False)
    sizes = sizes[sizes.Old_Topic != -1]
    return {-1: -1, **{int(label): topic for label, topic in zip(sizes.Old_Topic, range(len(sizes)), strict=True)}}


def _ctfidf(counts: sp.csr_matrix) -> sp.csr_matrix:
    """BERTopic's ``ClassTfidfTransformer(reduce_frequent_words=True)``: l1-normalised counts per
    topic, square-rooted, times ``log(1 + average words per topic / word frequency)``."""
    df = np.squeeze(np.asarray(counts.sum(axis=0)), axis=0)
    idf = np.log((int(counts.sum(axis=1).mean()) / df) + 1)
    tf = normalize(counts, axis=1, norm="l1", copy=False)
    tf.data = np.sqrt(tf.data)
    return tf @ sp.diags(idf, offsets=0, shape=(len(idf), len(idf)), format="csr", dtype=np.float64)


def _top_words(ctfidf: sp.csr_matrix, words: np.ndarray, n_keywords: int) -> list[tuple[str, ...]]:
    """Each row's words best first, as BERTopic's ``_extract_words_per_topic`` ranks them (its partial
    sort of the top max(n, 30) entries, then a sort of those), cut to ``n_keywords``, zero scores dropped."""
    n = max(n_keywords, 30)
    indices = []
    for start, end in zip(ctfidf.indptr[:-1], ctfidf.indptr[1:], strict=True):
        pick = min(n, end - start)
        found = ctfidf.indices[start + np.argpartition(ctfidf.data[start:end], -pick)[-pick:]]
        indices.append([found[i] if len(found) >= i + 1 else None for i in range(n)])
    indices = np.array(indices)
    scores = np.array([np.array([ctfidf[row, i] if i is not None else 0 for i in row_indices])
                       for row, row_indices in enumerate(indices)])
    order = np.argsort(scores, 1)
    indices = np.take_along_axis(indices, order, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    return [tuple(words[i] for i, score in list(zip(row_i[::-1], row_s[::-1], strict=True))[:n_keywords]
                  if i is not None and score > 0)
            for row_i, row_s in zip(indices, scores, strict=True)]


def class_tfidf_keywords(documents: Sequence[str], labels: np.ndarray,
                         n_keywords: int) -> tuple[dict[int, int], dict[int, tuple[str, ...]]]:
    """The topic numbers and topic words a BERTopic from :func:`make_bertopic` fitted with ``y=labels``
    gives, without BERTopic.

    In: term documents (:func:`term_document`), one label per document (-1: none; at least one
    document labelled). Out: label -> BERTopic topic (renumbered by size) for every label >= 0, and
    topic -> its top ``n_keywords`` words, best first (what ``topic_model.get_topic`` lists, less
    empty words and zero scores).
    """
    topic_of = _sorted_topics(labels)
    frame = pd.DataFrame({"Document": list(documents), "Topic": [topic_of[label] for label in labels.tolist()]})
    per_topic = frame.groupby(["Topic"], as_index=False).agg({"Document": " ".join})
    texts = [doc.replace("\n", " ").replace("\t", " ") or "emptydoc" for doc in per_topic.Document.values]
    vectorizer = CountVectorizer(analyzer=split_term_document, lowercase=False)
    counts = vectorizer.fit_transform(texts)
    top = _top_words(_ctfidf(counts), vectorizer.get_feature_names_out(), n_keywords)
    topics = [int(topic) for topic in per_topic.Topic]
    # Labels in document order, as a BERTopic's ``topics_`` list them.
    return ({label: topic_of[label] for label in dict.fromkeys(labels.tolist()) if label >= 0},
            dict(zip(topics, top, strict=True)))


def import_bertopic() -> None:
    """Import BERTopic (and the parts of it used here) without its side effect on the warnings.

    ``bertopic/_bertopic.py`` runs ``warnings.filterwarnings("ignore", category=UserWarning)`` (and
    FutureWarning) when imported, which silenced every warning of the process after it, the cache's
    "cannot write" among them. Those blanket filters are dropped; the narrow ones that the libraries
    BERTopic imports add (numpy's "size changed", say) are kept. Every module of the package imports
    BERTopic after calling this.
    """
    with warnings.catch_warnings():
        before = list(warnings.filters)
        import bertopic  # noqa: F401
        import bertopic.backend  # noqa: F401
        import bertopic.cluster  # noqa: F401
        import bertopic.dimensionality  # noqa: F401
        import bertopic.vectorizers  # noqa: F401

        added = [f for f in warnings.filters if f not in before]
    for action, message, category, module, lineno in reversed(added):
        if action == "ignore" and message is None and module is None:
            continue  # a whole category silenced for the whole process
        warnings.filterwarnings(action, message.pattern if message else "", category,
                                module.pattern if module else "", lineno)


def bertopic_backend(encode: Callable[[list[str]], np.ndarray]):
    """A BERTopic embedding backend that embeds with ``encode`` (texts -> vectors).

    Handing BERTopic a backend (rather than only precomputed vectors) keeps it from falling back
    to ``language="english"``, which strips every non-ASCII character from topic words.
    """
    import_bertopic()
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

    import_bertopic()
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
    import_bertopic()
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
