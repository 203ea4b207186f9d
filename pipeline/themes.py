"""The theme model: codebook themes where a unit fits one, discovered themes (BERTopic) where none fits.

``ThemeModel.fit(units)`` groups a round's recommendation units into themes in two steps.

1. **Codebook** (when a codebook is given). Each unit is embedded with its context (agenda and
   question heading: a researcher reads a recommendation under its question) and every theme's
   description and examples are embedded as queries. e5 vectors are anisotropic (all cosines sit
   near 0.9), so both are centred on the round's mean unit vector before comparing; the cosine to
   each theme prototype is then z-scored across themes and blended, with ``lexical_weight``, with
   the z-scored TF-IDF similarity between the unit's Kiwi terms and the theme's words. z-scoring
   makes the two kinds of evidence commensurable without a scale fitted to any gold coding.
   Every unit takes its best codebook theme by default. Two optional mechanisms are off by
   default because the stress sets of ``bench/stress.py`` (headings removed, other marker styles,
   leave-one-member-out with a saved model) showed they only cost accuracy on material the model
   had not seen, and changed no unit of the bundled round (see ``bench/README.md``):
   ``n_refine`` self-training rounds move each prototype towards the mean of the units it won
   (codebook and round weigh ``1 : refine_weight``); a model saved from a round then pulls every
   unit under that round's agendas towards their majority theme (leave-one-member-out: 0.83
   accuracy with 3 rounds, 0.90 without). ``min_similarity`` is a floor on the plain (uncentred)
   cosine to the best prototype below which a unit fits no codebook theme and goes to discovery;
   ``"auto"`` calibrates it on the codebook (the lowest similarity any example has to the *nearest
   other* theme), which puts it at the edge of ordinary units, so it rejected units whose best
   theme was right once headings were removed (0.86 vs 0.89) and never rejected a wrong one. The
   default ``-1.0`` (no cosine is lower) is no floor; ``"auto"`` still sends clearly off-codebook
   text (e.g. sports news) to discovery for a researcher who wants that.
2. **Discovery** (all units with ``codebook=None``, otherwise the units that fit no codebook theme).
   BERTopic with Kiwi terms in its vectorizer, UMAP (``random_state`` fixed; skipped for tiny
   sets) and :class:`AutoKMeans` in place of HDBSCAN, whose defaults collapse a 50-unit round.
   The vectors it clusters are sparse TF-IDF rows of *all* content nouns, stopwords included:
   stopwords are for readable keywords, while IDF already down-weights frequent words and their
   distribution still separates themes (on the bundled round, removing them cost ~0.07 ARI).
   UMAP's cosine neighbour search takes sparse input directly, so no SVD step is needed. UMAP
   starts from a PCA (truncated SVD) layout, ``umap_init="pca"``: its default spectral start
   solves an eigenproblem per connected component of the neighbour graph and took 295 of UMAP's
   400 s on 100k synthetic units (PCA: 87 s in all), while on the bundled round both starts give
   the same ARI within seed noise (0.318 +- 0.009 vs 0.321 +- 0.015 over 5 seeds).
   ``semantic_weight`` mixes in the centred sentence embeddings; 0 by default because they did not
   help discovery on the bundled round (they do help the codebook step).

Everything scales linearly in the number of units (sparse TF-IDF, UMAP's
approximate neighbours, (mini-batch) k-means, silhouette on a sample): no pairwise matrix.

``predict(units)`` assigns each unit on its own, with the prototypes, centring mean, vocabularies
and discovered-theme centroids saved at fit time, so a unit's theme never depends on which other
units are in the batch. Theme keywords and labels come from :mod:`pipeline.labeler`.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, hstack, issparse
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import NMF
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from pipeline.codebook import Codebook
from pipeline.records import Assignment, Unit

log = logging.getLogger(__name__)

UNASSIGNED_ID = "unassigned"
UNASSIGNED_LABEL = "미분류"
SOURCES = ("codebook", "discovered", "unassigned")
# Below this many units UMAP's neighbour graph is too small to be meaningful; cluster TF-IDF rows directly.
UMAP_MIN_UNITS = 20


def context_text(unit: Unit) -> str:
    """What is embedded for a unit: ``agenda question: text`` (just the text when it has no headings)."""
    head = " ".join(part for part in (unit.agenda.strip(), unit.question.strip()) if part)
    return f"{head}: {unit.text}" if head else unit.text


def _rows_unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64); zero rows stay zero."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _zscore(s: np.ndarray) -> np.ndarray:
    """Each row standardised across its columns (themes); a constant row becomes zeros."""
    sd = s.std(axis=1, keepdims=True)
    return np.divide(s - s.mean(axis=1, keepdims=True), sd, out=np.zeros_like(s), where=sd > 1e-12)


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class UnitTerms:
    """Kiwi terms of each unit's text: ``keyword`` without stopwords, ``cluster`` with them."""

    keyword: list[list[str]]
    cluster: list[list[str]]

    def __len__(self) -> int:
        return len(self.keyword)


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
        return normalize(m)

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
    at ``max_clusters`` and thinned to at most 12 values; the k with the best silhouette wins (ties:
    the smaller k). Fewer than ``2 * min_cluster_size`` units form one cluster. Silhouette is
    computed on at most ``silhouette_sample`` points and above ``minibatch_above`` units
    mini-batch k-means is used, so time and memory stay linear in n. Fitted: ``labels_``,
    ``cluster_centers_``, ``n_clusters_``, ``silhouette_`` (None with a single candidate).
    """

    def __init__(
        self,
        n_clusters: int | str = "auto",
        min_cluster_size: int = 5,
        max_clusters: int = 50,
        silhouette_sample: int = 2000,
        minibatch_above: int = 10000,
        random_state: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.min_cluster_size = min_cluster_size
        self.max_clusters = max_clusters
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

    def fit(self, X, y=None) -> AutoKMeans:
        # Only tiny sets reach here unreduced (see UMAP_MIN_UNITS), so densifying is cheap.
        X = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
        n = len(X)
        best = None
        for k in self.candidate_ks(n):
            model = self._kmeans(k, n).fit(X)
            score = None
            if len(self.candidate_ks(n)) > 1 and 1 < len(set(model.labels_)) < n:
                score = float(
                    silhouette_score(
                        X, model.labels_, sample_size=min(n, self.silhouette_sample), random_state=self.random_state
                    )
                )
            if best is None or (score is not None and score > best[0] + 1e-12):
                best = (score if score is not None else -np.inf, model)
        score, model = best
        self.labels_ = model.labels_.astype(int)
        self.cluster_centers_ = model.cluster_centers_
        self.n_clusters_ = int(model.n_clusters)
        self.silhouette_ = None if score == -np.inf else score
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


def _bertopic_backend(encode: Callable[[list[str]], np.ndarray]):
    """A BERTopic embedding backend that embeds with ``encode`` (texts -> vectors).

    Handing BERTopic a backend (rather than only precomputed vectors) keeps it from falling back
    to ``language="english"``, which strips every non-ASCII character from topic words.
    """
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):
        def embed(self, documents, verbose: bool = False) -> np.ndarray:
            return np.asarray(encode(list(documents)))

    return _Backend()


@dataclass(frozen=True)
class ThemeInfo:
    """A theme the model knows: id, label, source (``codebook``/``discovered``) and keywords."""

    theme_id: str
    label: str
    source: str
    keywords: tuple[str, ...] = ()


class ThemeModel(BaseEstimator):
    """Codebook-guided theme model with BERTopic discovery; see the module docstring for the method.

    Parameters (plain values): ``embedder`` (a :class:`pipeline.embedders.Embedder`; needed with a
    codebook or ``semantic_weight > 0``), ``codebook`` (``None``: discovery only), ``tokenizer``
    (keyword terms; default ``KiwiTokenizer()``), ``cluster_tokenizer`` (clustering terms; default
    ``KiwiTokenizer(stopwords=None)``), ``lexical_weight`` in [0, 1], ``n_refine`` self-training
    rounds (0: none), ``refine_weight``, ``min_similarity`` (float, ``-1.0``: no floor, or
    ``"auto"``), ``semantic_weight`` in
    [0, 1], ``n_themes`` (discovered themes: int or ``"auto"``), ``min_theme_size``,
    ``max_themes``, ``n_keywords``, ``nmf_sample`` (units in the NMF stability view), ``umap_init``
    (UMAP's starting layout: ``"pca"``, ``"spectral"``, ``"random"``), ``seed``.

    After ``fit``: ``themes_`` (list of :class:`ThemeInfo`, codebook themes first), ``labels_``
    (index into ``themes_``, -1 unassigned), ``scores_`` in [0, 1], ``assignments_``,
    ``bertopic_`` (the representation model; ``topic_of_`` maps theme index -> BERTopic topic),
    ``nmf_ari_`` (over ``nmf_units_`` units) and ``timings_`` (``cluster``: both views;
    ``label``: keywords and names).
    """

    def __init__(
        self,
        embedder=None,
        codebook: Codebook | None = None,
        *,
        tokenizer=None,
        cluster_tokenizer=None,
        lexical_weight: float = 0.5,
        n_refine: int = 0,
        refine_weight: float = 1.0,
        min_similarity: float | str = -1.0,
        semantic_weight: float = 0.0,
        n_themes: int | str = "auto",
        min_theme_size: int = 5,
        max_themes: int = 50,
        n_keywords: int = 10,
        nmf_sample: int = 10_000,
        umap_init: str = "pca",
        seed: int = 0,
    ) -> None:
        self.embedder = embedder
        self.codebook = codebook
        self.tokenizer = tokenizer
        self.cluster_tokenizer = cluster_tokenizer
        self.lexical_weight = lexical_weight
        self.n_refine = n_refine
        self.refine_weight = refine_weight
        self.min_similarity = min_similarity
        self.semantic_weight = semantic_weight
        self.n_themes = n_themes
        self.min_theme_size = min_theme_size
        self.max_themes = max_themes
        self.n_keywords = n_keywords
        self.nmf_sample = nmf_sample
        self.umap_init = umap_init
        self.seed = seed

    # ---- parameters and inputs -------------------------------------------------------------

    def _validate(self) -> None:
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise ValueError(f"lexical_weight must be in [0, 1], got {self.lexical_weight}")
        if not 0.0 <= self.semantic_weight <= 1.0:
            raise ValueError(f"semantic_weight must be in [0, 1], got {self.semantic_weight}")
        if self.n_refine < 0 or self.refine_weight < 0:
            raise ValueError("n_refine and refine_weight must be >= 0")
        if self.min_theme_size < 1 or self.max_themes < 1 or self.nmf_sample < 2:
            raise ValueError("min_theme_size and max_themes must be >= 1, nmf_sample >= 2")
        if not (self.min_similarity == "auto" or isinstance(self.min_similarity, int | float)):
            raise ValueError(f"min_similarity must be a number or 'auto', got {self.min_similarity!r}")
        if self.needs_embedder and self.embedder is None:
            raise ValueError("an embedder is needed with a codebook or semantic_weight > 0")

    @property
    def needs_embedder(self) -> bool:
        """Whether sentence embeddings are used (codebook mode, or discovery with ``semantic_weight``)."""
        return self.codebook is not None or self.semantic_weight > 0

    def _tokenizers(self):
        from pipeline.tokenizer import KiwiTokenizer

        if self.tokenizer is None:
            self.tokenizer = KiwiTokenizer()
        if self.cluster_tokenizer is None:
            self.cluster_tokenizer = KiwiTokenizer(stopwords=None)
        return self.tokenizer, self.cluster_tokenizer

    def tokenize(self, units: Sequence[Unit]) -> UnitTerms:
        """Kiwi terms of each unit's text (the ``tokenize`` stage): one analysis, two views."""
        from pipeline.tokenizer import tokenize_views

        keyword, cluster = tokenize_views([u.text for u in units], self._tokenizers())
        return UnitTerms(keyword, cluster)

    def embed(self, units: Sequence[Unit]) -> np.ndarray | None:
        """Sentence embeddings of each unit in context (the ``embed`` stage); None when not used."""
        if not self.needs_embedder:
            return None
        return np.asarray(self.embedder.encode([context_text(u) for u in units], kind="passage"), dtype=np.float64)

    def embed_codebook(self) -> dict[str, list[np.ndarray]] | None:
        """Vectors of the codebook's texts, computed once per codebook and embedder (part of the embed stage).

        ``prototypes``: per theme, its description and examples as queries; ``examples``: per
        theme, its examples as passages (for the ``"auto"`` similarity floor). None without a
        codebook. ``fit`` calls this itself; calling it first lets a caller time it with the units.
        """
        if self.codebook is None:
            return None
        self._validate()
        key = (self.codebook, self.embedder.name, self.embedder.model_id, self.min_similarity == "auto")
        cached = getattr(self, "_codebook_vectors", None)
        if cached is None or cached[0] != key:
            themes = self.codebook.themes
            vectors = {
                "prototypes": [np.asarray(self.embedder.encode(list(t.prototype_texts), kind="query")) for t in themes],
                # Examples as passages only calibrate the "auto" similarity floor.
                "examples": [np.asarray(self.embedder.encode(list(t.examples), kind="passage"))
                             if t.examples and self.min_similarity == "auto" and len(themes) > 1
                             else np.zeros((0, 0)) for t in themes],
            }
            self._codebook_vectors = (key, vectors)
        return self._codebook_vectors[1]

    def _inputs(self, units, terms, embeddings) -> tuple[list[Unit], UnitTerms, np.ndarray | None]:
        units = list(units)
        if not units:
            raise ValueError("no units to assign")
        if terms is None:
            terms = self.tokenize(units)
        if len(terms) != len(units):
            raise ValueError(f"{len(terms)} term lists for {len(units)} units")
        if self.needs_embedder:
            if embeddings is None:
                embeddings = self.embed(units)
            embeddings = np.asarray(embeddings, dtype=np.float64)
            if embeddings.shape[0] != len(units):
                raise ValueError(f"{embeddings.shape[0]} embeddings for {len(units)} units")
        return units, terms, embeddings

    # ---- fitting ----------------------------------------------------------------------------

    def fit(self, units: Sequence[Unit], terms: UnitTerms | None = None, embeddings=None) -> ThemeModel:
        """Learn the round's themes from ``units`` (optionally with precomputed terms/embeddings)."""
        from pipeline.labeler import ThemeLabeler

        self._validate()
        self._tokenizers()
        units, terms, embeddings = self._inputs(units, terms, embeddings)
        started = time.perf_counter()
        n = len(units)
        labels = np.full(n, -1)
        scores = np.zeros(n)
        themes: list[ThemeInfo] = []
        residual = np.arange(n)

        self.cluster_space_ = LexicalSpace().fit(terms.cluster)
        self.center_ = embeddings.mean(axis=0) if embeddings is not None else None
        if self.codebook is not None:
            themes = [ThemeInfo(t.theme_id, t.label, "codebook") for t in self.codebook.themes]
            self._fit_codebook(terms, embeddings)
            labels, scores, fits = self._score_codebook(terms.keyword, embeddings)
            residual = np.flatnonzero(~fits)
            labels[residual] = -1

        features = self._cluster_features(terms.cluster, embeddings)
        self.centroids_ = np.zeros((0, features.shape[1]))
        if len(residual) >= self.min_theme_size:
            found = self._discover(units, terms.keyword, features, residual)
            first = len(themes)
            for j, members in enumerate(found):
                themes.append(ThemeInfo(f"discovered_{j + 1:02d}", "", "discovered"))
                labels[members] = first + j
            self.centroids_ = _rows_unit(np.vstack([np.asarray(features[m].mean(axis=0)) for m in found]))
            for j, members in enumerate(found):
                scores[members] = np.clip(features[members] @ self.centroids_[j], 0.0, 1.0)
        elif len(residual):
            log.info("%d unit(s) fit no codebook theme: too few to form a theme, left unassigned", len(residual))
            scores[residual] = 0.0
        self.themes_ = themes
        self.labels_, self.scores_ = labels, scores
        self.nmf_ari_ = self._nmf_agreement(terms.keyword, labels)
        cluster_seconds = time.perf_counter() - started

        started = time.perf_counter()
        labeler = ThemeLabeler(self.tokenizer, n_keywords=self.n_keywords)
        labeler.fit([u.text for u in units], labels, features, self._features_for_texts, terms=terms.keyword)
        self.bertopic_ = labeler.bertopic_
        self.topic_of_ = dict(labeler.topic_of_)
        self.themes_ = labeler.name_themes(self.themes_)
        self.assignments_ = self._assignments(units, labels, scores)
        self.timings_ = {"cluster": cluster_seconds, "label": time.perf_counter() - started}
        return self

    def fit_predict(self, units: Sequence[Unit], terms: UnitTerms | None = None, embeddings=None) -> list[Assignment]:
        """``fit`` and return the fitted (transductive) assignments of ``units``."""
        return self.fit(units, terms, embeddings).assignments_

    def _fit_codebook(self, terms: UnitTerms, embeddings: np.ndarray) -> None:
        """Prototypes (semantic, refined), lexical profiles and the similarity floor."""
        book = self.codebook
        profile_terms = self.tokenizer.tokenize_batch([t.profile_text for t in book.themes])
        self.lexicon_ = LexicalSpace().fit(terms.keyword + profile_terms)
        self.profiles_ = self.lexicon_.transform(profile_terms)
        raw = np.asarray([v.mean(axis=0) for v in self.embed_codebook()["prototypes"]], dtype=np.float64)
        self.raw_prototypes_ = _rows_unit(raw)
        self.min_similarity_ = (
            self._calibrate_floor() if self.min_similarity == "auto" else float(self.min_similarity)
        )
        base = _rows_unit(raw - self.center_)
        self.prototypes_ = base
        units_c = _rows_unit(embeddings - self.center_)
        lexical = (self.lexicon_.transform(terms.keyword) @ self.profiles_.T).toarray()
        fits = (_rows_unit(embeddings) @ self.raw_prototypes_.T).max(axis=1) >= self.min_similarity_
        labels = None
        for _ in range(self.n_refine):
            new = self._blend(units_c @ self.prototypes_.T, lexical).argmax(axis=1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            moved = []
            for k in range(len(book)):
                won = units_c[(labels == k) & fits]
                shift = _rows_unit(won.mean(axis=0, keepdims=True))[0] if len(won) else 0.0
                moved.append(base[k] + self.refine_weight * shift)
            self.prototypes_ = _rows_unit(np.asarray(moved))

    def _calibrate_floor(self) -> float:
        """Lowest similarity of a codebook example (as a passage) to the nearest *other* theme's prototype."""
        floor = np.inf
        for k, examples in enumerate(self.embed_codebook()["examples"]):
            if not len(examples):  # none embedded: no examples, or a one-theme codebook
                continue
            sims = _rows_unit(examples) @ self.raw_prototypes_.T
            sims[:, k] = -np.inf
            floor = min(floor, float(sims.max(axis=1).min()))
        return floor if np.isfinite(floor) else -1.0

    def _blend(self, semantic: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        return (1.0 - self.lexical_weight) * _zscore(semantic) + self.lexical_weight * _zscore(lexical)

    def _score_codebook(self, keyword_terms, embeddings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per unit, independently: best codebook theme, its softmax share, and whether it fits at all."""
        semantic = _rows_unit(embeddings - self.center_) @ self.prototypes_.T
        lexical = (self.lexicon_.transform(keyword_terms) @ self.profiles_.T).toarray()
        blended = self._blend(semantic, lexical)
        labels = blended.argmax(axis=1)
        scores = _softmax(blended)[np.arange(len(labels)), labels]
        fits = (_rows_unit(embeddings) @ self.raw_prototypes_.T).max(axis=1) >= self.min_similarity_
        return labels, scores, fits

    def _cluster_features(self, cluster_terms, embeddings) -> csr_matrix:
        """Sparse rows of unit length: TF-IDF of all content nouns, plus weighted centred embeddings."""
        lexical = self.cluster_space_.transform(cluster_terms)
        if self.semantic_weight <= 0:
            return lexical
        semantic = _rows_unit(embeddings - self.center_)
        return hstack(
            [csr_matrix(math.sqrt(self.semantic_weight) * semantic), math.sqrt(1 - self.semantic_weight) * lexical],
            format="csr",
        )

    def _features_for_texts(self, texts: list[str]) -> csr_matrix:
        """Clustering features of raw texts (BERTopic's backend); headings unknown, so text only."""
        _, cluster_tok = self._tokenizers()
        embeddings = None
        if self.semantic_weight > 0:
            embeddings = np.asarray(self.embedder.encode(texts, kind="passage"), dtype=np.float64)
        return self._cluster_features(cluster_tok.tokenize_batch(texts), embeddings)

    def _discover(self, units: list[Unit], keyword_terms: list[list[str]], features: csr_matrix,
                  rows: np.ndarray) -> list[np.ndarray]:
        """BERTopic on the ``rows`` units; returns member row indices per theme, largest first."""
        from bertopic import BERTopic
        from bertopic.dimensionality import BaseDimensionalityReduction
        from bertopic.vectorizers import ClassTfidfTransformer
        from sklearn.feature_extraction.text import CountVectorizer

        n = len(rows)
        if n >= UMAP_MIN_UNITS:
            from umap import UMAP

            reducer = UMAP(
                n_neighbors=min(15, n - 1), n_components=5, metric="cosine", min_dist=0.0,
                random_state=self.seed, n_jobs=1, low_memory=True, init=self.umap_init,
            )
        else:
            reducer = BaseDimensionalityReduction()
        clusterer = AutoKMeans(
            self.n_themes, min_cluster_size=self.min_theme_size, max_clusters=self.max_themes, random_state=self.seed
        )
        documents = [term_document(keyword_terms[i]) for i in rows]
        model = BERTopic(
            language="multilingual",
            embedding_model=_bertopic_backend(self._features_for_texts),
            umap_model=reducer,
            hdbscan_model=clusterer,
            vectorizer_model=CountVectorizer(analyzer=split_term_document, lowercase=False),
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
            top_n_words=self.n_keywords,
            calculate_probabilities=False,
        )
        topics = np.asarray(model.fit_transform(documents, embeddings=features[rows])[0])
        self.discovery_silhouette_ = clusterer.silhouette_
        groups = [rows[topics == t] for t in sorted(set(topics.tolist())) if t >= 0]
        return sorted(groups, key=lambda m: (-len(m), int(m[0])))

    def _assignments(self, units, labels, scores) -> list[Assignment]:
        out = []
        for unit, k, score in zip(units, labels, scores, strict=True):
            if k < 0:
                out.append(Assignment(unit.rec_id, UNASSIGNED_ID, UNASSIGNED_LABEL, 0.0, "unassigned"))
            else:
                theme = self.themes_[k]
                out.append(Assignment(unit.rec_id, theme.theme_id, theme.label, round(float(score), 4), theme.source))
        return out

    def _nmf_agreement(self, keyword_terms, labels) -> float | None:
        """ARI between the main view and an NMF view of the same terms (None with under two themes).

        Above ``nmf_sample`` units both views are compared on a seeded random sample of that many
        units: NMF's cost grows with units x topics, and agreement is a proportion that a sample of
        10,000 estimates well.
        """
        from sklearn.metrics import adjusted_rand_score

        self.nmf_units_ = None
        n_topics = len(set(labels.tolist()) - {-1})
        if n_topics < 2:
            return None
        rows = np.arange(len(labels))
        if len(rows) > self.nmf_sample:
            rows = np.sort(np.random.default_rng(self.seed).choice(len(rows), self.nmf_sample, replace=False))
        nmf = NMFView(n_topics, random_state=self.seed).fit_predict([keyword_terms[i] for i in rows])
        self.nmf_units_ = len(rows)
        return float(adjusted_rand_score(labels[rows], nmf))

    # ---- prediction ---------------------------------------------------------------------------

    def predict(self, units: Sequence[Unit], terms: UnitTerms | None = None, embeddings=None) -> list[Assignment]:
        """Assign each unit on its own to a fitted theme (codebook first, else nearest discovered theme)."""
        if not hasattr(self, "themes_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("ThemeModel is not fitted: call fit(units) or load a saved model")
        units, terms, embeddings = self._inputs(units, terms, embeddings)
        n = len(units)
        labels = np.full(n, -1)
        scores = np.zeros(n)
        residual = np.arange(n)
        if self.codebook is not None:
            labels, scores, fits = self._score_codebook(terms.keyword, embeddings)
            residual = np.flatnonzero(~fits)
            labels[residual] = -1
            scores[residual] = 0.0
        if len(residual) and len(self.centroids_):
            features = self._cluster_features([terms.cluster[i] for i in residual],
                                              None if embeddings is None else embeddings[residual])
            sims = np.asarray(features @ self.centroids_.T)
            first = len(self.themes_) - len(self.centroids_)
            best = sims.max(axis=1)
            # A unit sharing no term with any discovered theme fits none of them either.
            labels[residual] = np.where(best > 0, first + sims.argmax(axis=1), -1)
            scores[residual] = np.clip(best, 0.0, 1.0)
        return self._assignments(units, labels, scores)
