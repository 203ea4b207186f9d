"""The theme model: codebook themes where a unit fits one, discovered themes (BERTopic) where none fits.

``ThemeModel.fit(units)`` groups a round's recommendation units into themes in two steps.

1. **Codebook** (when a codebook is given). Each unit is embedded with its context (agenda and
   question heading: a researcher reads a recommendation under its question; each distinct heading
   is embedded once and added to the text's vector, :func:`pipeline.features.embedders.embed_units`) and every theme's
   description and examples are embedded as queries. e5 vectors are anisotropic (all cosines sit
   near 0.9), so both are centred on the round's mean unit vector before comparing; the cosine to
   each theme prototype is then z-scored across themes and blended, with ``lexical_weight``, with
   the z-scored TF-IDF similarity between the unit's Kiwi terms and the theme's words. z-scoring
   makes the two kinds of evidence commensurable without a scale fitted to any gold coding.
   Every unit takes its best codebook theme by default. Two optional mechanisms are off by
   default because the stress sets of ``bench/quality/stress.py`` (headings removed, other marker styles,
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
3. **New themes** (codebook mode; ``new_themes="auto"``, the default: with any embedder but tfidf,
   whose vectors only share words, see :attr:`ThemeModel.finds_new_themes`). A round can raise
   concerns the codebook lacks; the codebook step would spread such units over its themes. Units whose fits
   look like those of a unit whose theme is missing, and that form a group of at least
   ``min_new_theme_size`` (two, a pair vouched for by two members or a term of its own) separated
   from every unit that does fit the codebook, become new-theme
   candidates ``new_theme_NN`` (``theme_source`` ``discovered``, labelled ``새 주제 후보: <keywords>``);
   :mod:`pipeline.themes.openset` has the rule and why, ``python -m bench.quality.loto`` measures it. Each
   candidate is then coded as the codebook theme its promotion would make of it, and takes the units whose
   best theme it is (:meth:`~pipeline.themes.openmodel.NewThemeSteps._code_candidates_as_themes`). Their units
   always need review; a researcher names a candidate and adds it to the codebook with
   :mod:`pipeline.themes.promote`.

Everything scales linearly in the number of units (sparse TF-IDF, UMAP's
approximate neighbours, (mini-batch) k-means, k chosen by Davies-Bouldin): no pairwise matrix.

``predict(units)`` assigns each unit on its own, with the prototypes, centring mean, vocabularies
and discovered-theme centroids saved at fit time, so a unit's theme never depends on which other
units are in the batch. ``predict_open(units)`` (``advisory assign``) does the same and then finds
the batch's own new themes, as a fit does (:class:`pipeline.themes.openmodel.NewThemeSteps`).
The codebook step is :class:`pipeline.themes.scorer.CodebookScorer`, discovery
:class:`pipeline.themes.discovery.ThemeDiscoverer` (its UMAP and k-means can be swapped: ``reducer``,
``clusterer``); theme keywords and labels come from :mod:`pipeline.themes.keywords`. ``ThemeModel`` composes
the three and owns what they share: the tokenizers, the embedder and the round's centring mean.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from pipeline.core.records import Assignment, ThemeInfo, Unit
from pipeline.themes.codebook import Codebook
from pipeline.themes.discovery import ThemeDiscoverer
from pipeline.themes.keywords import ThemeLabeler
from pipeline.themes.memory import ExampleMemory
from pipeline.themes.modelinputs import ModelInputs, UnitTerms
from pipeline.themes.modelstate import SavedState
from pipeline.themes.openmodel import NewThemeSteps, new_theme_ids, place_new_themes
from pipeline.themes.openset import NewThemeFinder, is_new_theme
from pipeline.themes.researcher import ResearcherThemes
from pipeline.themes.scorer import CodebookScorer, make_assignments, rows_unit


class ThemeModel(ResearcherThemes, ModelInputs, NewThemeSteps, SavedState, BaseEstimator):
    """Codebook-guided theme model with BERTopic discovery; see the module docstring for the method.

    Parameters: ``embedder`` (a :class:`pipeline.features.embedders.Embedder`; needed with a codebook or
    ``semantic_weight > 0``), ``codebook`` (``None``: discovery only), ``tokenizer`` (keyword terms;
    default ``KiwiTokenizer()``), ``cluster_tokenizer`` (clustering terms; default
    ``KiwiTokenizer(stopwords=None)``); the codebook step's (:class:`CodebookScorer`) and
    discovery's (:class:`ThemeDiscoverer`, whose ``reducer`` and ``clusterer`` a saved model does
    not keep: ``predict`` needs neither) under the same names; ``nmf_sample`` (units in the NMF
    stability view), ``review_margin`` (:func:`pipeline.themes.scorer.make_assignments`), ``new_themes``
    and ``min_new_theme_size`` (step 3 of the module docstring), ``seed``.

    After ``fit``: ``themes_`` (list of :class:`ThemeInfo`, codebook themes first), ``labels_``
    (index into ``themes_``, -1 unassigned), ``scores_`` in [0, 1], ``assignments_``, ``center_``
    (the round's mean embedding, None without embeddings), the fitted ``scorer_`` (None without a
    codebook) and ``discoverer_`` (its centroids include the new themes'), ``finder_`` (the
    :class:`~pipeline.themes.openset.NewThemeFinder` of the fit; None without one), ``bertopic_`` (the
    representation model; ``topic_of_`` maps theme
    index -> BERTopic topic), and ``timings_`` (``cluster``, ``label``: keywords and names). The NMF
    cross-check is a diagnostic of a fit, not part of it: :func:`pipeline.themes.clustering.nmf_agreement`.
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
        new_themes: bool | str = "auto",
        min_new_theme_size: int = 2,
        seed: int = 0,
        reducer=None,
        clusterer=None,
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
        self.new_themes = new_themes
        self.min_new_theme_size = min_new_theme_size
        self.seed = seed
        self.reducer = reducer
        self.clusterer = clusterer

    def _sub_params(self, sub_model: type[BaseEstimator]) -> dict:
        """This model's parameters that ``sub_model`` takes (a sub-model's parameters keep their names here)."""
        names = set(sub_model._get_param_names())
        return {k: v for k, v in self.get_params(deep=False).items() if k in names}

    def _validate(self) -> None:
        CodebookScorer(**self._sub_params(CodebookScorer)).validate()
        ThemeDiscoverer(**self._sub_params(ThemeDiscoverer)).validate()
        NewThemeFinder(min_size=self.min_new_theme_size).validate()
        if self.new_themes not in (True, False, "auto"):
            raise ValueError(f"new_themes must be True, False or 'auto', got {self.new_themes!r}")
        if self.nmf_sample < 2:
            raise ValueError(f"nmf_sample must be >= 2, got {self.nmf_sample}")
        if self.needs_embedder and self.embedder is None:
            raise ValueError("an embedder is needed with a codebook or semantic_weight > 0")

    def _features(self, cluster_terms, embeddings: np.ndarray | None) -> csr_matrix:
        """Discovery's features of units: TF-IDF of their terms, plus centred embeddings with ``semantic_weight``."""
        semantic = rows_unit(embeddings - self.center_) if self.semantic_weight > 0 else None
        return self.discoverer_.transform(cluster_terms, semantic)

    def _features_for_texts(self, texts: list[str]) -> csr_matrix:
        """Clustering features of raw texts (BERTopic's backend); headings unknown, so text only."""
        _, cluster_tok = self._tokenizers()
        embeddings = None
        if self.semantic_weight > 0:
            embeddings = np.asarray(self.embedder.encode(texts, kind="passage"), dtype=np.float64)
        return self._features(cluster_tok.tokenize_batch(texts), embeddings)

    def fit(self, units: Sequence[Unit], terms: UnitTerms | None = None, embeddings=None,
            text_embeddings=None) -> ThemeModel:
        """Learn the round's themes from ``units`` (optionally with precomputed terms/embeddings; the
        text-only vectors, :meth:`embed_views`, are what new themes are grouped by)."""
        self._validate()
        self._tokenizers()
        units, terms, embeddings, text = self._inputs(units, terms, embeddings, text_embeddings)
        started = time.perf_counter()
        n = len(units)
        out = np.full(n, -1), np.zeros(n), np.full(n, -1), np.full(n, np.nan)  # labels, scores, runner, margins
        residual = np.arange(n)
        themes: list[ThemeInfo] = []
        self.center_ = embeddings.mean(axis=0) if embeddings is not None else None
        self.scorer_ = self.finder_ = None
        if self.codebook is not None:
            themes = [ThemeInfo(t.theme_id, t.label, "codebook") for t in self.codebook.themes]
            vectors = self.embed_codebook()
            self.scorer_ = CodebookScorer(**self._sub_params(CodebookScorer)).fit(
                terms.keyword, embeddings, self.center_, vectors["prototypes"], vectors["examples"])
            *out, residual = self.scorer_.assign(terms.keyword, embeddings, self.center_)
            if self.finds_new_themes:
                members = [u.member for u in units]
                found = self._find_new_themes(self.scorer_, terms, embeddings, self.center_, text, members)
                self.finder_ = self._code_candidates_as_themes(found, self.scorer_, vectors["prototypes"],
                                                               [u.text for u in units], terms, embeddings,
                                                               self.center_, text, members)
                residual = np.setdiff1d(residual, np.flatnonzero(self.finder_.labels_ >= 0))
        semantic = rows_unit(embeddings - self.center_) if self.semantic_weight > 0 else None
        self.discoverer_ = ThemeDiscoverer(**self._sub_params(ThemeDiscoverer))
        features = self.discoverer_.fit_transform(terms.cluster, semantic, terms.keyword, residual,
                                                  self._features_for_texts)
        themes += [ThemeInfo(f"discovered_{j + 1:02d}", "", "discovered")
                   for j in range(len(self.discoverer_.centroids_))]
        if len(self.discoverer_.centroids_):
            self.discoverer_.place(out, residual, self.discoverer_.labels_[residual],
                                   self.discoverer_.scores_[residual], features[residual], len(self.codebook or ()))
        review = None
        if self.finder_ is not None and self.finder_.groups_:
            review = place_new_themes(out, self.finder_, len(themes))
            themes += [ThemeInfo(i, "", "discovered") for i in new_theme_ids(themes, len(self.finder_.groups_))]
            self.discoverer_.add_centroids(features, self.finder_.groups_)
        labels, scores, runner, margins = out
        self.themes_, self.labels_, self.scores_ = themes, labels, scores
        cluster_seconds = time.perf_counter() - started

        started = time.perf_counter()
        labeler = ThemeLabeler(self.tokenizer, n_keywords=self.n_keywords)
        labeler.fit([u.text for u in units], labels, features, self._features_for_texts, terms=terms.keyword)
        self.bertopic_ = labeler
        self.topic_of_ = dict(labeler.topic_of_)
        candidates = frozenset(t.theme_id for t in themes if is_new_theme(t.theme_id, t.source))
        self.themes_ = labeler.name_themes(self.themes_, candidates)
        self.assignments_ = make_assignments(units, self.themes_, labels, scores, runner, margins, self.review_margin,
                                             review)
        self.timings_ = {"cluster": cluster_seconds, "label": time.perf_counter() - started}
        return self

    def _predicted(self, units: list[Unit], terms: UnitTerms, embeddings) -> tuple[np.ndarray, ...]:
        """Per unit, on its own: labels, scores, runner-ups and margins into ``themes_`` (see :meth:`predict`)."""
        if not hasattr(self, "themes_"):
            raise NotFittedError("ThemeModel is not fitted: call fit(units) or load a saved model")
        n = len(units)
        out = np.full(n, -1), np.zeros(n), np.full(n, -1), np.full(n, np.nan)
        residual = np.arange(n)
        if self.codebook is not None:
            *out, residual = self.scorer_.assign(terms.keyword, embeddings, self.center_)
            out = self._scored_labels(out)
        if len(residual) and len(self.discoverer_.centroids_):
            features = self._features([terms.cluster[i] for i in residual],
                                      None if embeddings is None else embeddings[residual])
            self.discoverer_.place(out, residual, *self.discoverer_.predict(features), features,
                                   len(self.codebook or ()))
        return out

    def predict(self, units: Sequence[Unit], terms: UnitTerms | None = None, embeddings=None) -> list[Assignment]:
        """Assign each unit on its own to a fitted theme (codebook first, else nearest discovered theme)."""
        if not hasattr(self, "themes_"):
            raise NotFittedError("ThemeModel is not fitted: call fit(units) or load a saved model")
        units, terms, embeddings, _ = self._inputs(units, terms, embeddings, need_text=False)
        assignments = make_assignments(units, self.themes_, *self._predicted(units, terms, embeddings),
                                       self.review_margin)
        return self._remember(units, assignments)

    def round_keywords(self, units: Sequence[Unit], assignments: Sequence[Assignment],
                       terms: UnitTerms | None = None, embeddings=None,
                       themes: Sequence[ThemeInfo] | None = None) -> list[ThemeInfo]:
        """The model's themes (or ``themes``: the model's and a round's new ones, :meth:`predict_open`)
        with keywords from ``units`` as ``assignments`` place them; out: one :class:`ThemeInfo` per
        theme, in that order (no keywords where a theme has no unit).

        c-TF-IDF over this round's units only, so a theme card never shows a word its round lacks
        (a saved model's own keywords come from the round it was fitted on). Labels are kept.
        """
        units, terms, embeddings, _ = self._inputs(units, terms, embeddings, need_text=False)
        themes = list(self.themes_ if themes is None else themes)
        index = {t.theme_id: k for k, t in enumerate(themes)}
        labels = np.array([index.get(a.theme_id, -1) for a in assignments])
        labeler = ThemeLabeler(self.tokenizer, n_keywords=self.n_keywords)
        labeler.fit([u.text for u in units], labels, self._features(terms.cluster, embeddings),
                    self._features_for_texts, terms=terms.keyword)
        return [replace(t, keywords=labeler.keywords_.get(k, ())) for k, t in enumerate(themes)]

    def learn(self, units: Sequence[Unit], theme_ids: Sequence[str], terms: UnitTerms | None = None,
              embeddings=None) -> ThemeModel:
        """Take researcher-corrected ``units`` as examples of the themes ``theme_ids`` names; out: self.

        The model remembers every unit (:class:`ExampleMemory`), so ``predict`` gives it, and a unit nearly
        identical to it, the researcher's theme. A researcher theme (:meth:`adopt`) gets vectors of its own
        units (a prototype of the codebook step, :meth:`CodebookScorer.learn`, or without a codebook a
        centroid), so units like them in a later round can take it. The model's own themes do not move,
        so no unit nobody corrected changes theme for want of a near tie (``bench/README.md``,
        "Corrections"). Raises ``ValueError`` for a theme id the model does not have.
        """
        if not hasattr(self, "labels_"):
            raise ValueError("learn needs a ThemeModel fitted in this process (a loaded one has no fitted round)")
        units, terms, embeddings, _ = self._inputs(units, terms, embeddings, need_text=False)
        index = {t.theme_id: k for k, t in enumerate(self.themes_)}
        unknown = sorted(set(theme_ids) - set(index))
        if unknown:
            raise ValueError(f"theme ids not in the model: {', '.join(unknown)}")
        rows, centroids = self._learning_rows(np.array([index[t] for t in theme_ids], dtype=np.int64))
        if (rows >= len(self.codebook or ())).any():
            plain = np.asarray(self.embedder.encode([u.text for u in units], kind="passage"), dtype=np.float64)
            self.scorer_.learn(plain, rows, self.center_, terms.keyword)
        if (centroids >= len(self.discoverer_.centroids_)).any():
            self._learn_centroids(self._features(terms.cluster, embeddings), centroids)
        self.memory_ = ExampleMemory().fit([u.rec_id for u in units], [u.text for u in units], list(theme_ids))
        return self
