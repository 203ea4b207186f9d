"""The estimators discovery is built from: a TF-IDF space over Kiwi terms, k-means that picks k, an NMF view.

Each is a small scikit-learn estimator with plain parameters; none builds a units x units matrix.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix, issparse
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import NMF
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import normalize


class LexicalSpace(BaseEstimator):
    """Sublinear TF-IDF over pre-tokenised documents (sparse, L2-normalised rows).

    ``fit(docs)`` learns the sorted vocabulary and smoothed IDF (as scikit-learn's
    ``TfidfVectorizer(sublinear_tf=True)``); ``transform(docs)`` maps any documents into that
    space. The learnt state is a word list and one array (``get_state``/``from_state``), so a saved
    model needs no pickle. A document without known terms maps to a zero row.
    """

    def fit(self, docs: Sequence[Sequence[str]]) -> LexicalSpace:
        df = Counter(term for doc in docs for term in set(doc))
        self.vocabulary_ = sorted(df)
        self.index_ = {term: i for i, term in enumerate(self.vocabulary_)}
        n = len(docs)
        self.idf_ = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in self.vocabulary_], dtype=np.float64)
        return self

    def transform(self, docs: Sequence[Sequence[str]]) -> csr_matrix:
        """L2-normalised sparse TF-IDF rows of ``docs`` over the fitted vocabulary."""
        rows, cols, vals = [], [], []
        for i, doc in enumerate(docs):
            counts = Counter(self.index_[t] for t in doc if t in self.index_)
            for j in sorted(counts):
                rows.append(i)
                cols.append(j)
                vals.append((1.0 + math.log(counts[j])) * self.idf_[j])
        m = csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocabulary_)), dtype=np.float64)
        m.sort_indices()
        # A round without a single term has an empty vocabulary, which normalize rejects.
        return normalize(m) if m.shape[1] else m

    def get_state(self) -> tuple[list[str], np.ndarray]:
        """The fitted state: (vocabulary, idf) for JSON + safetensors."""
        return list(self.vocabulary_), self.idf_

    @classmethod
    def from_state(cls, vocabulary: Sequence[str], idf: np.ndarray) -> LexicalSpace:
        """A fitted space rebuilt from :meth:`get_state`'s output."""
        if len(vocabulary) != len(idf):
            raise ValueError(f"{len(vocabulary)} terms for {len(idf)} idf weights")
        space = cls()
        space.vocabulary_ = list(vocabulary)
        space.index_ = {term: i for i, term in enumerate(space.vocabulary_)}
        space.idf_ = np.asarray(idf, dtype=np.float64)
        return space


class AutoKMeans(ClusterMixin, BaseEstimator):
    """k-means that picks its own k; BERTopic's clustering step (``hdbscan_model``).

    With ``n_clusters="auto"`` the candidates run from ``ceil(sqrt(n/2))`` (the classic rule of
    thumb) to ``n // min_cluster_size`` (themes should average at least that many units), capped
    at ``max_clusters`` and thinned to at most 12 values; the k with the best ``criterion`` wins
    (ties: the smaller k). Fewer than ``2 * min_cluster_size`` units form one cluster.

    ``criterion`` is ``"davies_bouldin"`` (lowest Davies-Bouldin index: each cluster's spread over
    its distance to the most similar other cluster; O(n k), no sample needed) or ``"silhouette"``
    (highest mean silhouette, on at most ``silhouette_sample`` points). Davies-Bouldin is the
    default: on the bundled round (UMAP layouts, 10 seeds) silhouette chose fewer themes (7.9 vs
    8.7 for 10 coded ones) and Davies-Bouldin gave the higher mean ARI against the human coding on
    the whole round and on its leave-one-member-out fits and held-out units (``bench/README.md``,
    discovery section). Above ``minibatch_above`` units mini-batch
    k-means is used, so time and memory stay linear in n. k never exceeds the number of distinct
    points (identical units cannot be told apart). Fitted: ``labels_``, ``cluster_centers_``,
    ``n_clusters_``, ``score_`` (the criterion's value at the chosen k; None with a single candidate).
    """

    def __init__(
        self,
        n_clusters: int | str = "auto",
        min_cluster_size: int = 5,
        max_clusters: int = 50,
        criterion: str = "davies_bouldin",
        silhouette_sample: int = 2000,
        minibatch_above: int = 10000,
        random_state: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.min_cluster_size = min_cluster_size
        self.max_clusters = max_clusters
        self.criterion = criterion
        self.silhouette_sample = silhouette_sample
        self.minibatch_above = minibatch_above
        self.random_state = random_state

    def candidate_ks(self, n: int) -> list[int]:
        """The k values tried for ``n`` points."""
        if n < 1:
            raise ValueError("cannot cluster zero points")
        if self.n_clusters != "auto":
            if not isinstance(self.n_clusters, int) or self.n_clusters < 1:
                raise ValueError(f"n_clusters must be 'auto' or a positive int, got {self.n_clusters!r}")
            return [min(self.n_clusters, n)]
        if n < 2 * self.min_cluster_size:
            return [1]
        hi = max(2, min(n // self.min_cluster_size, self.max_clusters))
        lo = min(max(2, math.ceil(math.sqrt(n / 2))), hi)
        return sorted({int(round(k)) for k in np.linspace(lo, hi, min(12, hi - lo + 1))})

    def _kmeans(self, k: int, n: int):
        if n > self.minibatch_above:
            return MiniBatchKMeans(k, n_init=3, batch_size=4096, random_state=self.random_state)
        return KMeans(k, n_init=10, random_state=self.random_state)

    def _score(self, X: np.ndarray, labels: np.ndarray) -> float:
        """How good a partition is by ``criterion``, oriented so that higher is better."""
        if self.criterion == "davies_bouldin":
            return -float(davies_bouldin_score(X, labels))
        return float(silhouette_score(X, labels, sample_size=min(len(X), self.silhouette_sample),
                                      random_state=self.random_state))

    def fit(self, X, y=None) -> AutoKMeans:
        if self.criterion not in ("davies_bouldin", "silhouette"):
            raise ValueError(f"criterion must be 'davies_bouldin' or 'silhouette', got {self.criterion!r}")
        # Only tiny sets reach here unreduced (see UMAP_MIN_UNITS), so densifying is cheap.
        X = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
        n = len(X)
        # More clusters than distinct points leaves empty clusters (identical units); never ask for them.
        distinct = len(np.unique(X, axis=0))
        candidates = sorted({min(k, distinct) for k in self.candidate_ks(n)})
        best = None
        for k in candidates:
            model = self._kmeans(k, n).fit(X)
            score = None
            if len(candidates) > 1 and 1 < len(set(model.labels_)) < n:
                score = self._score(X, model.labels_)
            if best is None or (score is not None and score > best[0] + 1e-12):
                best = (score if score is not None else -np.inf, model)
        score, model = best
        self.labels_ = model.labels_.astype(int)
        self.cluster_centers_ = model.cluster_centers_
        self.n_clusters_ = int(model.n_clusters)
        if score == -np.inf:
            self.score_ = None
        else:
            # Reported in the criterion's own orientation (Davies-Bouldin: lower is better).
            self.score_ = -score if self.criterion == "davies_bouldin" else score
        return self

    def predict(self, X) -> np.ndarray:
        X = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
        d = ((X[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(-1)
        return d.argmin(axis=1)


class NMFView(BaseEstimator):
    """A second, independent topic view: NMF on the TF-IDF of the same Kiwi terms, argmax topic per unit.

    Its agreement (ARI) with the main view is a stability signal: themes that two different models
    both find are more trustworthy. ``fit_predict(docs)`` returns one topic per unit (-1 for a unit
    without terms).
    """

    def __init__(self, n_components: int = 10, random_state: int = 0, max_iter: int = 500) -> None:
        self.n_components = n_components
        self.random_state = random_state
        self.max_iter = max_iter

    def fit_predict(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        tfidf = LexicalSpace().fit(docs).transform(docs)
        k = max(1, min(self.n_components, tfidf.shape[0], tfidf.shape[1]))
        if tfidf.nnz == 0:
            return np.full(len(docs), -1)
        w = NMF(k, init="nndsvda", random_state=self.random_state, max_iter=self.max_iter).fit_transform(tfidf)
        labels = w.argmax(axis=1)
        labels[w.max(axis=1) <= 0] = -1
        return labels


def nmf_agreement(keyword_terms: Sequence[Sequence[str]], labels: np.ndarray, sample: int = 10_000,
                  seed: int = 0) -> tuple[float | None, int | None]:
    """ARI between theme labels (-1 unassigned) and an NMF view of the same terms, and the units compared.

    ``(None, None)`` with under two themes. Above ``sample`` units both views are compared on a
    seeded random sample of that many units: NMF's cost grows with units x topics, and agreement
    is a proportion that a sample of 10,000 estimates well.
    """
    labels = np.asarray(labels)
    n_topics = len(set(labels.tolist()) - {-1})
    if n_topics < 2:
        return None, None
    rows = np.arange(len(labels))
    if len(rows) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), sample, replace=False))
    nmf = NMFView(n_topics, random_state=seed).fit_predict([keyword_terms[i] for i in rows])
    return float(adjusted_rand_score(labels[rows], nmf)), len(rows)
