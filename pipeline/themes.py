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
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator

from pipeline.bertopic_adapter import make_bertopic, term_document
from pipeline.clustering import AutoKMeans, LexicalSpace
from pipeline.codebook import Codebook
from pipeline.embedders import embed_units
from pipeline.labeler import ThemeLabeler
from pipeline.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, ThemeInfo, Unit
from pipeline.tokenizer import KiwiTokenizer, tokenize_views

log = logging.getLogger(__name__)

SOURCES = ("codebook", "discovered", "unassigned")
# Below this many units UMAP's neighbour graph is too small to be meaningful; cluster TF-IDF rows directly.
UMAP_MIN_UNITS = 20
UMAP_COMPONENTS = 5


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


def _distinct_rows(features: csr_matrix) -> int:
    """How many different rows a sparse matrix has (canonical CSR: same row, same indices and data)."""
    features = features.tocsr()
    features.sum_duplicates()
    return len({(features.indices[a:b].tobytes(), features.data[a:b].tobytes())
                for a, b in zip(features.indptr[:-1], features.indptr[1:], strict=True)})


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
    (UMAP's starting layout: ``"pca"``, ``"spectral"``, ``"random"``), ``review_margin`` (a unit
    whose margin over its runner-up theme is below it needs review, see :meth:`_assignments`), ``seed``.

    After ``fit``: ``themes_`` (list of :class:`ThemeInfo`, codebook themes first), ``labels_``
    (index into ``themes_``, -1 unassigned), ``scores_`` in [0, 1], ``assignments_``,
    ``bertopic_`` (the representation model; ``topic_of_`` maps theme index -> BERTopic topic),
    and ``timings_`` (``cluster``, ``label``: keywords and names). The NMF cross-check is a
    diagnostic of a fit, not part of it: :func:`pipeline.clustering.nmf_agreement`.
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
        review_margin: float = 0.3,
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
        self.review_margin = review_margin
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
        if self.tokenizer is None:
            self.tokenizer = KiwiTokenizer()
        if self.cluster_tokenizer is None:
            self.cluster_tokenizer = KiwiTokenizer(stopwords=None)
        return self.tokenizer, self.cluster_tokenizer

    def tokenize(self, units: Sequence[Unit]) -> UnitTerms:
        """Kiwi terms of each unit's text (the ``tokenize`` stage): one analysis, two views."""
        keyword, cluster = tokenize_views([u.text for u in units], self._tokenizers())
        return UnitTerms(keyword, cluster)

    def embed(self, units: Sequence[Unit]) -> np.ndarray | None:
        """Sentence embeddings of each unit in context (the ``embed`` stage); None when not used."""
        if not self.needs_embedder:
            return None
        return np.asarray(embed_units(self.embedder, units), dtype=np.float64)

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
        self._validate()
        self._tokenizers()
        units, terms, embeddings = self._inputs(units, terms, embeddings)
        started = time.perf_counter()
        n = len(units)
        labels = np.full(n, -1)
        scores = np.zeros(n)
        themes: list[ThemeInfo] = []
        residual = np.arange(n)
        runner = np.full(n, -1)
        margins = np.full(n, np.nan)

        self.cluster_space_ = LexicalSpace().fit(terms.cluster)
        self.center_ = embeddings.mean(axis=0) if embeddings is not None else None
        if self.codebook is not None:
            themes = [ThemeInfo(t.theme_id, t.label, "codebook") for t in self.codebook.themes]
            self._fit_codebook(terms, embeddings)
            labels, scores, fits, runner, margins = self._score_codebook(terms.keyword, embeddings)
            residual = np.flatnonzero(~fits)
            labels[residual] = -1
            runner[residual], margins[residual] = -1, np.nan

        features = self._cluster_features(terms.cluster, embeddings)
        self.centroids_ = np.zeros((0, features.shape[1]))
        if len(residual) >= self.min_theme_size and features[residual].nnz == 0:
            log.info("%d unit(s) fit no codebook theme and share no term: left unassigned", len(residual))
        elif len(residual) >= self.min_theme_size:
            found = self._discover(units, terms.keyword, features, residual)
            first = len(themes)
            for j, members in enumerate(found):
                themes.append(ThemeInfo(f"discovered_{j + 1:02d}", "", "discovered"))
                labels[members] = first + j
            self.centroids_ = _rows_unit(np.vstack([np.asarray(features[m].mean(axis=0)) for m in found]))
            for j, members in enumerate(found):
                scores[members] = np.clip(features[members] @ self.centroids_[j], 0.0, 1.0)
            runner[residual], margins[residual] = self._centroid_runner_up(
                features[residual], labels[residual] - first, first)
        elif len(residual):
            log.info("%d unit(s) fit no codebook theme: too few to form a theme, left unassigned", len(residual))
            scores[residual] = 0.0
        self.themes_ = themes
        self.labels_, self.scores_ = labels, scores
        cluster_seconds = time.perf_counter() - started

        started = time.perf_counter()
        labeler = ThemeLabeler(self.tokenizer, n_keywords=self.n_keywords)
        labeler.fit([u.text for u in units], labels, features, self._features_for_texts, terms=terms.keyword)
        self.bertopic_ = labeler.bertopic_
        self.topic_of_ = dict(labeler.topic_of_)
        self.themes_ = labeler.name_themes(self.themes_)
        self.assignments_ = self._assignments(units, labels, scores, runner, margins)
        self.timings_ = {"cluster": cluster_seconds, "label": time.perf_counter() - started}
        return self

    def round_keywords(self, units: Sequence[Unit], assignments: Sequence[Assignment],
                       terms: UnitTerms | None = None, embeddings=None) -> list[ThemeInfo]:
        """The model's themes with keywords from ``units`` as ``assignments`` place them; out: one
        :class:`ThemeInfo` per theme, in the model's order (no keywords where a theme has no unit).

        c-TF-IDF over this round's units only, so a theme card never shows a word its round lacks
        (a saved model's own keywords come from the round it was fitted on). Labels are kept.
        """
        units, terms, embeddings = self._inputs(units, terms, embeddings)
        index = {t.theme_id: k for k, t in enumerate(self.themes_)}
        labels = np.array([index.get(a.theme_id, -1) for a in assignments])
        labeler = ThemeLabeler(self.tokenizer, n_keywords=self.n_keywords)
        labeler.fit([u.text for u in units], labels, self._cluster_features(terms.cluster, embeddings),
                    self._features_for_texts, terms=terms.keyword)
        return [replace(t, keywords=labeler.keywords_.get(k, ())) for k, t in enumerate(self.themes_)]

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

    def learn(self, units: Sequence[Unit], theme_ids: Sequence[str], terms: UnitTerms | None = None,
              embeddings=None) -> ThemeModel:
        """Take researcher-corrected ``units`` as examples of the themes ``theme_ids`` names; out: self.

        A codebook theme's prototype becomes the centred mean of its codebook vectors *and* its corrected
        units' vectors, each counting once (with ``n_refine`` > 0 the refinement is not redone). The
        units are embedded as plain text, without their agenda and question: with the headings a
        prototype drifted towards everything under the corrected units' agenda, the failure of
        self-training refinement, and adding the units' terms to the lexical profiles cost accuracy too
        (leave-one-member-out with the other members' gold themes as corrections, ``bench/README.md``).
        A discovered theme's centroid moves towards the units, weighted against the theme's fitted size.
        Other themes, and the units already assigned, are unchanged: this is what a model saved from a
        corrected run (``--save-model``) knows, and ``predict`` on another round uses it. Each call
        starts the prototypes again from the codebook. Raises ``ValueError`` for a theme id the model
        does not have.
        """
        if not hasattr(self, "labels_"):
            raise ValueError("learn needs a ThemeModel fitted in this process (a loaded one has no fitted round)")
        units, terms, embeddings = self._inputs(units, terms, embeddings)
        index = {t.theme_id: k for k, t in enumerate(self.themes_)}
        unknown = sorted(set(theme_ids) - set(index))
        if unknown:
            raise ValueError(f"theme ids not in the model: {', '.join(unknown)}")
        targets = np.array([index[t] for t in theme_ids])
        n_book = len(self.codebook) if self.codebook is not None else 0
        if n_book and (targets < n_book).any():
            plain = np.asarray(self.embedder.encode([u.text for u in units], kind="passage"), dtype=np.float64)
            prototypes = []
            for k, vectors in enumerate(self.embed_codebook()["prototypes"]):
                examples = np.vstack([np.asarray(vectors, dtype=np.float64), plain[targets == k]])
                prototypes.append(examples.mean(axis=0) - self.center_)
            self.prototypes_ = _rows_unit(np.asarray(prototypes))
        if (targets >= n_book).any():
            features = self._cluster_features(terms.cluster, embeddings)
            for j in range(len(self.centroids_)):
                rows = np.flatnonzero(targets == n_book + j)
                if len(rows):
                    size = int((self.labels_ == n_book + j).sum())
                    moved = size * self.centroids_[j] + np.asarray(features[rows].sum(axis=0)).ravel()
                    self.centroids_[j] = _rows_unit(moved[None, :])[0]
        return self

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

    def _score_codebook(self, keyword_terms, embeddings) -> tuple[np.ndarray, ...]:
        """Per unit, independently: best codebook theme, its softmax share, whether it fits at all, the
        runner-up theme by the same blended score (-1 with a one-theme codebook) and the margin between
        their softmax shares (NaN without a runner-up)."""
        semantic = _rows_unit(embeddings - self.center_) @ self.prototypes_.T
        lexical = (self.lexicon_.transform(keyword_terms) @ self.profiles_.T).toarray()
        blended = self._blend(semantic, lexical)
        labels = blended.argmax(axis=1)
        shares = _softmax(blended)
        rows = np.arange(len(labels))
        scores = shares[rows, labels]
        fits = (_rows_unit(embeddings) @ self.raw_prototypes_.T).max(axis=1) >= self.min_similarity_
        runner, margins = np.full(len(labels), -1), np.full(len(labels), np.nan)
        if shares.shape[1] > 1:
            others = np.where(np.arange(shares.shape[1]) == labels[:, None], -np.inf, blended)
            runner = others.argmax(axis=1)
            margins = scores - shares[rows, runner]
        return labels, scores, fits, runner, margins

    def _centroid_runner_up(self, features, own: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
        """Runner-up of units in discovered themes (``own``: centroid index, -1 for none): the nearest
        *other* centroid (as a theme index, ``first`` being the first discovered one; -1 when there is
        none) and own minus its cosine. In a fit the own theme comes
        from clustering in UMAP space, so the margin is negative where another centroid is nearer."""
        runner, margins = np.full(len(own), -1), np.full(len(own), np.nan)
        if len(self.centroids_) < 2 or not len(own):
            return runner, margins
        sims = np.asarray(features @ self.centroids_.T)
        rows = np.flatnonzero(own >= 0)
        others = sims[rows].copy()
        others[np.arange(len(rows)), own[rows]] = -np.inf
        second = others.argmax(axis=1)
        runner[rows] = first + second
        margins[rows] = np.clip(sims[rows, own[rows]], 0.0, 1.0) - np.clip(sims[rows, second], 0.0, 1.0)
        return runner, margins

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
        distinct = _distinct_rows(features[rows])
        if distinct < 2:
            # Identical units (or units sharing one term): one theme, nothing for UMAP or k-means to split.
            self.discovery_silhouette_ = None
            return [rows]
        n = len(rows)
        # UMAP needs enough distinct points for its neighbour graph, and its PCA start more terms than
        # output dimensions; with fewer, k-means clusters the TF-IDF rows directly.
        if distinct >= UMAP_MIN_UNITS and features.shape[1] > UMAP_COMPONENTS:
            from umap import UMAP

            reducer = UMAP(
                n_neighbors=min(15, n - 1), n_components=UMAP_COMPONENTS, metric="cosine", min_dist=0.0,
                random_state=self.seed, n_jobs=1, low_memory=True, init=self.umap_init,
            )
        else:
            reducer = None
        clusterer = AutoKMeans(
            self.n_themes, min_cluster_size=self.min_theme_size, max_clusters=self.max_themes, random_state=self.seed
        )
        documents = [term_document(keyword_terms[i]) for i in rows]
        model = make_bertopic(self._features_for_texts, self.n_keywords, reducer, clusterer)
        topics = np.asarray(model.fit_transform(documents, embeddings=features[rows])[0])
        self.discovery_silhouette_ = clusterer.silhouette_
        groups = [rows[topics == t] for t in sorted(set(topics.tolist())) if t >= 0]
        return sorted(groups, key=lambda m: (-len(m), int(m[0])))

    def _assignments(self, units, labels, scores, runner, margins) -> list[Assignment]:
        """One :class:`Assignment` per unit. ``needs_review``: the unit is unassigned, or its margin over
        the runner-up is below ``review_margin`` (rounded as written, so the flag matches the CSV)."""
        out = []
        for unit, k, score, second, margin in zip(units, labels, scores, runner, margins, strict=True):
            if k < 0:
                out.append(Assignment(unit.rec_id, UNASSIGNED_ID, UNASSIGNED_LABEL, 0.0, "unassigned",
                                      needs_review=True))
                continue
            theme = self.themes_[k]
            margin = None if second < 0 or np.isnan(margin) else round(float(margin), 4)
            out.append(Assignment(
                unit.rec_id, theme.theme_id, theme.label, round(float(score), 4), theme.source,
                theme_runner_up=self.themes_[second].theme_id if margin is not None else "",
                theme_margin=margin, needs_review=margin is not None and margin < self.review_margin))
        return out

    # ---- saved state ---------------------------------------------------------------------------

    #: Parameters that are objects, not values: a saved model records them its own way.
    _OBJECT_PARAMS = ("embedder", "codebook", "tokenizer", "cluster_tokenizer")

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted model as JSON-ready values and named arrays (for model.json and safetensors).

        ``params`` are :meth:`get_params` less the object parameters (embedder, codebook, tokenizers;
        the codebook and the embedder's identity are stored as values, the tokenizers by the caller).
        """
        if not hasattr(self, "themes_"):
            raise ValueError("cannot save an unfitted ThemeModel: fit it first")
        params = {k: v for k, v in self.get_params(deep=False).items() if k not in self._OBJECT_PARAMS}
        vocabulary, idf = self.cluster_space_.get_state()
        state = {
            "params": params,
            "embedder": None,
            "codebook": self.codebook.to_dict() if self.codebook is not None else None,
            "themes": [{"id": t.theme_id, "label": t.label, "source": t.source, "topic": self.topic_of_.get(k)}
                       for k, t in enumerate(self.themes_)],
            "cluster_vocabulary": vocabulary,
        }
        arrays = {"cluster_idf": idf, "centroids": np.asarray(self.centroids_)}
        if self.needs_embedder:
            state["embedder"] = {"name": self.embedder.name, "model_id": self.embedder.model_id,
                                 "dim": int(self.center_.shape[0])}
            arrays["center"] = self.center_
        if self.codebook is not None:
            state["min_similarity"] = self.min_similarity_
            state["lexicon_vocabulary"] = self.lexicon_.get_state()[0]
            arrays.update({"prototypes": self.prototypes_, "raw_prototypes": self.raw_prototypes_,
                           "profiles": self.profiles_.toarray(), "lexicon_idf": self.lexicon_.idf_})
        return state, arrays

    @classmethod
    def from_state(cls, state: dict, arrays: dict[str, np.ndarray], **objects) -> ThemeModel:
        """A fitted model (less its BERTopic) from :meth:`to_state`'s output and the object parameters.

        Raises ``KeyError``/``ValueError`` when the state is incomplete or inconsistent.
        """
        model = cls(**objects, **state["params"])
        model.cluster_space_ = LexicalSpace.from_state(state["cluster_vocabulary"], arrays["cluster_idf"])
        model.centroids_ = arrays["centroids"]
        model.center_ = arrays.get("center")
        if model.codebook is not None:
            model.min_similarity_ = float(state["min_similarity"])
            model.lexicon_ = LexicalSpace.from_state(state["lexicon_vocabulary"], arrays["lexicon_idf"])
            model.prototypes_ = arrays["prototypes"]
            model.raw_prototypes_ = arrays["raw_prototypes"]
            model.profiles_ = csr_matrix(arrays["profiles"])
            if len(model.prototypes_) != len(model.codebook):
                raise ValueError(f"{len(model.prototypes_)} prototypes for {len(model.codebook)} codebook themes")
        model.topic_of_ = {k: t["topic"] for k, t in enumerate(state["themes"]) if t["topic"] is not None}
        model.bertopic_ = None
        model.themes_ = [ThemeInfo(t["id"], t["label"], t["source"]) for t in state["themes"]]
        n_discovered = sum(t.source == "discovered" for t in model.themes_)
        if n_discovered != len(model.centroids_):
            raise ValueError(f"{len(model.centroids_)} centroids for {n_discovered} discovered themes")
        return model

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
        runner = np.full(n, -1)
        margins = np.full(n, np.nan)
        if self.codebook is not None:
            labels, scores, fits, runner, margins = self._score_codebook(terms.keyword, embeddings)
            residual = np.flatnonzero(~fits)
            labels[residual] = -1
            scores[residual] = 0.0
            runner[residual], margins[residual] = -1, np.nan
        if len(residual) and len(self.centroids_):
            features = self._cluster_features([terms.cluster[i] for i in residual],
                                              None if embeddings is None else embeddings[residual])
            sims = np.asarray(features @ self.centroids_.T)
            first = len(self.themes_) - len(self.centroids_)
            best = sims.max(axis=1)
            # A unit sharing no term with any discovered theme fits none of them either.
            labels[residual] = np.where(best > 0, first + sims.argmax(axis=1), -1)
            scores[residual] = np.clip(best, 0.0, 1.0)
            runner[residual], margins[residual] = self._centroid_runner_up(features, labels[residual] - first, first)
        return self._assignments(units, labels, scores, runner, margins)
