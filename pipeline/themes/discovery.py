"""Discovery: themes for the units no codebook theme fits (all units without a codebook).

:class:`ThemeDiscoverer` is the theme model's discovery step (see :mod:`pipeline.themes.model` for the
method and its measured choices). Like BERTopic, its sub-models are parameters: ``vectorizer``
(the TF-IDF space the units are clustered in), ``reducer`` (BERTopic's ``umap_model``) and
``clusterer`` (BERTopic's ``hdbscan_model``); ``None`` builds the defaults in ``fit`` (a
:class:`~pipeline.themes.clustering.LexicalSpace`, UMAP when there are enough distinct units, and
:class:`~pipeline.themes.clustering.AutoKMeans`). UMAP (and BERTopic, which imports it) are imported
only when discovery clusters something: a codebook run whose units all fit a theme never loads them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, clone

from pipeline.themes.bertopic_adapter import make_bertopic, term_document
from pipeline.themes.clustering import AutoKMeans, LexicalSpace
from pipeline.themes.scorer import rows_unit

log = logging.getLogger(__name__)

# Below this many units UMAP's neighbour graph is too small to be meaningful; cluster TF-IDF rows directly.
UMAP_MIN_UNITS = 20
UMAP_COMPONENTS = 5


def _distinct_rows(features: csr_matrix) -> int:
    """How many different rows a sparse matrix has (canonical CSR: same row, same indices and data)."""
    features = features.tocsr()
    features.sum_duplicates()
    return len({(features.indices[a:b].tobytes(), features.data[a:b].tobytes())
                for a, b in zip(features.indptr[:-1], features.indptr[1:], strict=True)})


class ThemeDiscoverer(BaseEstimator):
    """BERTopic over the units' TF-IDF rows (plus weighted sentence vectors), k-means picking k.

    Parameters: ``n_themes`` (int or ``"auto"``), ``min_theme_size``, ``max_themes``,
    ``n_keywords`` (BERTopic's topic words), ``semantic_weight`` in [0, 1] (share of the centred
    sentence vectors in the features), ``umap_init``, ``seed``, and the sub-models ``vectorizer``
    (an unfitted estimator with :class:`LexicalSpace`'s interface, saved through its
    ``get_state``), ``reducer`` and ``clusterer`` (unfitted; cloned in ``fit``).

    Fitted by :meth:`fit_transform`: ``vectorizer_``, ``centroids_`` (one unit-length row per
    discovered theme), ``labels_`` (per unit: discovered theme, -1 for units not clustered),
    ``scores_`` (cosine to the own centroid, in [0, 1]) and ``score_`` (the clusterer's criterion at
    the chosen k, Davies-Bouldin for the default; None when no k was chosen).
    """

    def __init__(
        self,
        n_themes: int | str = "auto",
        min_theme_size: int = 5,
        max_themes: int = 50,
        n_keywords: int = 10,
        semantic_weight: float = 0.0,
        umap_init: str = "pca",
        seed: int = 0,
        *,
        vectorizer=None,
        reducer=None,
        clusterer=None,
    ) -> None:
        self.n_themes = n_themes
        self.min_theme_size = min_theme_size
        self.max_themes = max_themes
        self.n_keywords = n_keywords
        self.semantic_weight = semantic_weight
        self.umap_init = umap_init
        self.seed = seed
        self.vectorizer = vectorizer
        self.reducer = reducer
        self.clusterer = clusterer

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first parameter out of range."""
        if not 0.0 <= self.semantic_weight <= 1.0:
            raise ValueError(f"semantic_weight must be in [0, 1], got {self.semantic_weight}")
        if self.min_theme_size < 1 or self.max_themes < 1:
            raise ValueError("min_theme_size and max_themes must be >= 1")

    def transform(self, cluster_terms: Sequence[Sequence[str]], semantic: np.ndarray | None) -> csr_matrix:
        """Sparse rows of unit length: TF-IDF of the terms, plus ``semantic`` (centred, unit-length
        sentence vectors; used only with ``semantic_weight > 0``) weighted by ``semantic_weight``."""
        lexical = self.vectorizer_.transform(cluster_terms)
        if self.semantic_weight <= 0:
            return lexical
        return hstack(
            [csr_matrix(math.sqrt(self.semantic_weight) * semantic), math.sqrt(1 - self.semantic_weight) * lexical],
            format="csr",
        )

    def fit_transform(self, cluster_terms: list[list[str]], semantic: np.ndarray | None,
                      keyword_terms: list[list[str]], rows: np.ndarray,
                      encode: Callable[[list[str]], np.ndarray]) -> csr_matrix:
        """Fit the vectorizer on all units and discover themes among the ``rows`` units; out: every unit's features.

        ``keyword_terms`` are BERTopic's documents; ``encode`` maps raw texts to the same features
        (BERTopic's embedding backend). Fewer than ``min_theme_size`` rows, or rows without a single
        term, form no theme.
        """
        self.validate()
        self.vectorizer_ = clone(self.vectorizer) if self.vectorizer is not None else LexicalSpace()
        self.vectorizer_.fit(cluster_terms)
        features = self.transform(cluster_terms, semantic)
        self.centroids_ = np.zeros((0, features.shape[1]))
        self.labels_ = np.full(len(cluster_terms), -1)
        self.scores_ = np.zeros(len(cluster_terms))
        self.score_ = None
        if len(rows) >= self.min_theme_size and features[rows].nnz == 0:
            log.info("코드북 주제에 맞지 않고 공통 어휘도 없는 권고 %d건은 미분류로 둡니다", len(rows))
        elif len(rows) >= self.min_theme_size:
            found = self._cluster(keyword_terms, features, rows, encode)
            for j, members in enumerate(found):
                self.labels_[members] = j
            self.centroids_ = rows_unit(np.vstack([np.asarray(features[m].mean(axis=0)) for m in found]))
            for j, members in enumerate(found):
                self.scores_[members] = np.clip(features[members] @ self.centroids_[j], 0.0, 1.0)
        elif len(rows):
            log.info("코드북 주제에 맞지 않는 권고 %d건은 주제를 이루기에 너무 적어 미분류로 둡니다", len(rows))
        return features

    def _cluster(self, keyword_terms: list[list[str]], features: csr_matrix, rows: np.ndarray,
                 encode: Callable[[list[str]], np.ndarray]) -> list[np.ndarray]:
        """BERTopic on the ``rows`` units; returns member row indices per theme, largest first."""
        distinct = _distinct_rows(features[rows])
        if distinct < 2:
            # Identical units (or units sharing one term): one theme, nothing for UMAP or k-means to split.
            return [rows]
        reducer = clone(self.reducer, safe=False) if self.reducer is not None else self._default_reducer(
            distinct, len(rows), features.shape[1])
        clusterer = clone(self.clusterer, safe=False) if self.clusterer is not None else AutoKMeans(
            self.n_themes, min_cluster_size=self.min_theme_size, max_clusters=self.max_themes, random_state=self.seed)
        documents = [term_document(keyword_terms[i]) for i in rows]
        model = make_bertopic(encode, self.n_keywords, reducer, clusterer)
        topics = np.asarray(model.fit_transform(documents, embeddings=features[rows])[0])
        self.score_ = getattr(clusterer, "score_", None)
        groups = [rows[topics == t] for t in sorted(set(topics.tolist())) if t >= 0]
        return sorted(groups, key=lambda m: (-len(m), int(m[0])))

    def _default_reducer(self, distinct: int, n: int, n_features: int):
        """UMAP to ``UMAP_COMPONENTS`` dimensions, or None (cluster the rows as they are).

        UMAP needs enough distinct points for its neighbour graph, and its PCA start more terms than
        output dimensions; with fewer, k-means clusters the TF-IDF rows directly.
        """
        if distinct < UMAP_MIN_UNITS or n_features <= UMAP_COMPONENTS:
            return None
        from umap import UMAP

        return UMAP(
            n_neighbors=min(15, n - 1), n_components=UMAP_COMPONENTS, metric="cosine", min_dist=0.0,
            random_state=self.seed, n_jobs=1, low_memory=True, init=self.umap_init,
        )

    def predict(self, features: csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """Nearest discovered theme of each unit (-1 when it shares no term with any) and its cosine in [0, 1]."""
        sims = np.asarray(features @ self.centroids_.T)
        best = sims.max(axis=1)
        return np.where(best > 0, sims.argmax(axis=1), -1), np.clip(best, 0.0, 1.0)

    def runner_up(self, features: csr_matrix, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Runner-up of units in discovered themes (``own``: theme, -1 for none): the nearest *other*
        centroid (-1 when there is none) and own minus its cosine. In a fit the own theme comes from
        clustering in UMAP space, so the margin is negative where another centroid is nearer."""
        runner, margins = np.full(len(own), -1), np.full(len(own), np.nan)
        if len(self.centroids_) < 2 or not len(own):
            return runner, margins
        sims = np.asarray(features @ self.centroids_.T)
        rows = np.flatnonzero(own >= 0)
        others = sims[rows].copy()
        others[np.arange(len(rows)), own[rows]] = -np.inf
        second = others.argmax(axis=1)
        runner[rows] = second
        margins[rows] = np.clip(sims[rows, own[rows]], 0.0, 1.0) - np.clip(sims[rows, second], 0.0, 1.0)
        return runner, margins

    def place(self, out: Sequence[np.ndarray], rows: np.ndarray, own: np.ndarray, own_scores: np.ndarray,
              features: csr_matrix, first: int) -> None:
        """Write the ``rows`` units' theme (``own``: -1 none), score and runner-up into ``out`` (a theme
        model's labels, scores, runner-ups and margins, in which discovered theme ``j`` is ``first + j``)."""
        labels, scores, runner, margins = out
        labels[rows] = np.where(own >= 0, first + own, -1)
        scores[rows] = own_scores
        second, margins[rows] = self.runner_up(features, own)
        runner[rows] = np.where(second >= 0, first + second, -1)

    def add_centroids(self, features: csr_matrix, groups: Sequence[np.ndarray]) -> ThemeDiscoverer:
        """Append one centroid per group of units (row indices into ``features``, this discoverer's space)
        found by another step, the new themes of a codebook run (:mod:`pipeline.themes.openset`); out: self.
        A saved model keeps them, so :meth:`predict` and :meth:`learn` treat them as discovered themes."""
        if len(groups):
            added = rows_unit(np.vstack([np.asarray(features[g].mean(axis=0)) for g in groups]))
            self.centroids_ = np.vstack([np.asarray(self.centroids_).reshape(-1, added.shape[1]), added])
        return self

    def learn(self, features: csr_matrix, targets: np.ndarray, sizes: np.ndarray) -> ThemeDiscoverer:
        """Move each discovered theme's centroid towards the units ``targets`` puts in it (-1: none);
        ``sizes`` are the themes' fitted sizes, the weight of the old centroid. Out: self."""
        for j in range(len(self.centroids_)):
            rows = np.flatnonzero(targets == j)
            if len(rows):
                moved = int(sizes[j]) * self.centroids_[j] + np.asarray(features[rows].sum(axis=0)).ravel()
                self.centroids_[j] = rows_unit(moved[None, :])[0]
        return self

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted state: the vectorizer's vocabulary (JSON) and its IDF and the centroids (arrays)."""
        vocabulary, idf = self.vectorizer_.get_state()
        return {"cluster_vocabulary": vocabulary}, {"cluster_idf": idf, "centroids": np.asarray(self.centroids_)}

    @classmethod
    def from_state(cls, state: dict, arrays: dict[str, np.ndarray], **params) -> ThemeDiscoverer:
        """A fitted discoverer (for ``transform``/``predict``) from :meth:`to_state`'s output; ``KeyError``
        or ``ValueError`` when the state is incomplete or inconsistent."""
        discoverer = cls(**params)
        space = type(discoverer.vectorizer) if discoverer.vectorizer is not None else LexicalSpace
        discoverer.vectorizer_ = space.from_state(state["cluster_vocabulary"], arrays["cluster_idf"])
        discoverer.centroids_ = arrays["centroids"]
        return discoverer
