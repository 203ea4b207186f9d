"""Codebook scoring: which codebook theme each unit fits, how clearly, and which theme comes second.

:class:`CodebookScorer` is the theme model's codebook step (see :mod:`pipeline.themes.model` for the
method and why its defaults are what they are). It is a scikit-learn style estimator on numbers
only: the caller (the theme model) tokenizes and embeds, and hands in the unit vectors, the
round's centring mean and the codebook's own vectors; the scorer never calls an embedder.
:func:`make_assignments` turns any scores (codebook or discovered) into
:class:`~pipeline.core.records.Assignment` rows with their runner-up, margin and review flag.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix, vstack
from sklearn.base import BaseEstimator

from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, ThemeInfo, Unit
from pipeline.themes.clustering import LexicalSpace
from pipeline.themes.codebook import Codebook


def rows_unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64); zero rows stay zero."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _zscore(s: np.ndarray, n: int | None = None) -> np.ndarray:
    """Each row standardised by the mean and spread of its first ``n`` columns (all by default); a row
    constant there becomes zeros."""
    head = s[:, :n]
    sd = head.std(axis=1, keepdims=True)
    return np.divide(s - head.mean(axis=1, keepdims=True), sd, out=np.zeros_like(s), where=sd > 1e-12)


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class CodebookScorer(BaseEstimator):
    """Scores units against codebook themes: z-scored centred cosine blended with z-scored TF-IDF.

    Parameters: ``codebook``, ``tokenizer`` (Kiwi keyword terms of the themes' profile texts),
    ``lexical_weight`` in [0, 1], ``n_refine`` self-training rounds, ``refine_weight``,
    ``min_similarity`` (a float floor on the plain cosine to the best prototype, or ``"auto"``).

    ``fit(keyword_terms, embeddings, center, prototype_vectors, example_vectors)``: the units'
    keyword terms and embeddings, the round's mean embedding, and per codebook theme its
    description and examples embedded as queries, and its examples embedded as passages (empty
    arrays when not needed: they only calibrate ``"auto"``). Fitted: ``lexicon_`` (TF-IDF space),
    ``profiles_`` (themes' TF-IDF rows), ``raw_prototypes_`` (uncentred, unit length),
    ``prototypes_`` (centred, refined) and ``min_similarity_`` (the floor in use).
    """

    def __init__(
        self,
        codebook: Codebook | None = None,
        tokenizer=None,
        *,
        lexical_weight: float = 0.5,
        n_refine: int = 0,
        refine_weight: float = 1.0,
        min_similarity: float | str = -1.0,
    ) -> None:
        self.codebook = codebook
        self.tokenizer = tokenizer
        self.lexical_weight = lexical_weight
        self.n_refine = n_refine
        self.refine_weight = refine_weight
        self.min_similarity = min_similarity

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first parameter out of range."""
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise ValueError(f"lexical_weight must be in [0, 1], got {self.lexical_weight}")
        if self.n_refine < 0 or self.refine_weight < 0:
            raise ValueError("n_refine and refine_weight must be >= 0")
        if not (self.min_similarity == "auto" or isinstance(self.min_similarity, int | float)):
            raise ValueError(f"min_similarity must be a number or 'auto', got {self.min_similarity!r}")

    def fit(self, keyword_terms: list[list[str]], embeddings: np.ndarray, center: np.ndarray,
            prototype_vectors: Sequence[np.ndarray], example_vectors: Sequence[np.ndarray]) -> CodebookScorer:
        """Prototypes (semantic, refined), lexical profiles and the similarity floor; out: self."""
        self.validate()
        book = self.codebook
        profile_terms = self.tokenizer.tokenize_batch([t.profile_text for t in book.themes])
        self.lexicon_ = LexicalSpace().fit(keyword_terms + profile_terms)
        self.profiles_ = self.lexicon_.transform(profile_terms)
        raw = np.asarray([v.mean(axis=0) for v in prototype_vectors], dtype=np.float64)
        self.raw_prototypes_ = rows_unit(raw)
        self.min_similarity_ = (
            self._calibrate_floor(example_vectors) if self.min_similarity == "auto" else float(self.min_similarity)
        )
        base = rows_unit(raw - center)
        self.prototypes_ = base
        units_c = rows_unit(embeddings - center)
        lexical = (self.lexicon_.transform(keyword_terms) @ self.profiles_.T).toarray()
        fits = (rows_unit(embeddings) @ self.raw_prototypes_.T).max(axis=1) >= self.min_similarity_
        labels = None
        for _ in range(self.n_refine):
            new = self.blend(units_c @ self.prototypes_.T, lexical).argmax(axis=1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            moved = []
            for k in range(len(book)):
                won = units_c[(labels == k) & fits]
                shift = rows_unit(won.mean(axis=0, keepdims=True))[0] if len(won) else 0.0
                moved.append(base[k] + self.refine_weight * shift)
            self.prototypes_ = rows_unit(np.asarray(moved))
        return self

    def _calibrate_floor(self, example_vectors: Sequence[np.ndarray]) -> float:
        """Lowest similarity of a codebook example (as a passage) to the nearest *other* theme's prototype."""
        floor = np.inf
        for k, examples in enumerate(example_vectors):
            if not len(examples):  # none embedded: no examples, or a one-theme codebook
                continue
            sims = rows_unit(examples) @ self.raw_prototypes_.T
            sims[:, k] = -np.inf
            floor = min(floor, float(sims.max(axis=1).min()))
        return floor if np.isfinite(floor) else -1.0

    def blend(self, semantic: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """The score each unit's theme is chosen by: :meth:`channels` z-scored across themes and blended."""
        # Standardised by the codebook's themes alone: a researcher theme (a column after them) then wins the
        # units it fits best without moving the codebook themes' order for any other unit.
        n = len(self.codebook)
        return (1.0 - self.lexical_weight) * _zscore(semantic, n) + self.lexical_weight * _zscore(lexical, n)

    def assign(self, keyword_terms: list[list[str]], embeddings: np.ndarray,
               center: np.ndarray) -> tuple[np.ndarray, ...]:
        """:meth:`predict` with units that fit no theme left out: their theme and runner-up -1, score 0,
        margin NaN; also returns the row indices of those units (discovery's input)."""
        labels, scores, fits, runner, margins = self.predict(keyword_terms, embeddings, center)
        residual = np.flatnonzero(~fits)
        labels[residual], scores[residual], runner[residual], margins[residual] = -1, 0.0, -1, np.nan
        return labels, scores, runner, margins, residual

    def predict(self, keyword_terms: list[list[str]], embeddings: np.ndarray,
                center: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per unit, independently: best codebook theme, its softmax share, whether it fits at all, the
        runner-up theme by the same blended score (-1 with a one-theme codebook) and the margin between
        their softmax shares (NaN without a runner-up)."""
        blended = self.blend(*self.channels(keyword_terms, embeddings, center))
        labels = blended.argmax(axis=1)
        shares = _softmax(blended)
        rows = np.arange(len(labels))
        scores = shares[rows, labels]
        fits = (rows_unit(embeddings) @ self.raw_prototypes_.T).max(axis=1) >= self.min_similarity_
        runner, margins = np.full(len(labels), -1), np.full(len(labels), np.nan)
        if shares.shape[1] > 1:
            others = np.where(np.arange(shares.shape[1]) == labels[:, None], -np.inf, blended)
            runner = others.argmax(axis=1)
            margins = scores - shares[rows, runner]
        return labels, scores, fits, runner, margins

    def channels(self, keyword_terms: list[list[str]], embeddings: np.ndarray,
                 center: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The two kinds of evidence, units x themes, before they are z-scored and blended: the centred
        cosine to each prototype and the TF-IDF cosine to each theme's lexical profile."""
        semantic = rows_unit(embeddings - center) @ self.prototypes_.T
        lexical = (self.lexicon_.transform(keyword_terms) @ self.profiles_.T).toarray()
        return semantic, lexical

    def learn(self, plain_embeddings: np.ndarray, targets: np.ndarray, center: np.ndarray,
              keyword_terms: Sequence[Sequence[str]]) -> CodebookScorer:
        """Researcher themes from their corrected units: ``targets`` names each unit's row (-1: none); out: self.

        A row after the codebook's is a researcher theme, which has no codebook text: its prototype is
        the centred mean of its units' plain-text vectors (without agenda and question: with them a
        prototype pulls every unit under the same heading, the failure of self-training refinement), its
        lexical profile their ``keyword_terms`` (one list per unit); it is added when ``targets`` first
        names it. The codebook's own prototypes do not move: units corrected into them taught unseen
        units nothing (leave-one-member-out, ``bench/README.md``) and tipped near ties of units nobody
        corrected (``python -m bench.quality.corrections``); the model remembers those units instead
        (:class:`pipeline.themes.memory.ExampleMemory`).
        """
        n_book = len(self.codebook)
        prototypes, raw = list(self.prototypes_), list(self.raw_prototypes_)
        profiles = [self.profiles_[k] for k in range(self.profiles_.shape[0])]
        for k in range(n_book, int(targets.max(initial=-1)) + 1):
            mine = np.flatnonzero(targets == k)
            if not len(mine):
                continue
            mean = plain_embeddings[mine].mean(axis=0)
            row = (rows_unit((mean - center)[None, :])[0], rows_unit(mean[None, :])[0],
                   self.lexicon_.transform([[term for i in mine for term in keyword_terms[i]]]))
            if k < len(prototypes):
                prototypes[k], raw[k], profiles[k] = row
            else:
                prototypes.append(row[0])
                raw.append(row[1])
                profiles.append(row[2])
        self.prototypes_, self.raw_prototypes_ = np.asarray(prototypes), np.asarray(raw)
        self.profiles_ = csr_matrix(vstack(profiles))
        return self

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted state as JSON-ready values (``min_similarity``, ``lexicon_vocabulary``) and arrays."""
        state = {"min_similarity": self.min_similarity_, "lexicon_vocabulary": self.lexicon_.get_state()[0]}
        arrays = {"prototypes": self.prototypes_, "raw_prototypes": self.raw_prototypes_,
                  "profiles": self.profiles_.toarray(), "lexicon_idf": self.lexicon_.idf_}
        return state, arrays

    @classmethod
    def from_state(cls, state: dict, arrays: dict[str, np.ndarray], **params) -> CodebookScorer:
        """A fitted scorer from :meth:`to_state`'s output and its parameters; ``KeyError``/``ValueError``
        when the state is incomplete or does not match the codebook."""
        scorer = cls(**params)
        scorer.min_similarity_ = float(state["min_similarity"])
        scorer.lexicon_ = LexicalSpace.from_state(state["lexicon_vocabulary"], arrays["lexicon_idf"])
        scorer.prototypes_ = arrays["prototypes"]
        scorer.raw_prototypes_ = arrays["raw_prototypes"]
        scorer.profiles_ = csr_matrix(arrays["profiles"])
        if len(scorer.prototypes_) < len(scorer.codebook):
            raise ValueError(f"{len(scorer.prototypes_)} prototypes for {len(scorer.codebook)} codebook themes")
        return scorer


def codebook_vectors(embedder, codebook: Codebook, with_examples: bool) -> dict[str, list[np.ndarray]]:
    """What :meth:`CodebookScorer.fit` needs from the embedder: per theme, ``prototypes`` (its
    description and examples embedded as queries) and ``examples`` (its examples as passages when
    ``with_examples`` and the codebook has several themes, else an empty array)."""
    themes = codebook.themes
    return {
        "prototypes": [np.asarray(embedder.encode(list(t.prototype_texts), kind="query")) for t in themes],
        "examples": [np.asarray(embedder.encode(list(t.examples), kind="passage"))
                     if t.examples and with_examples and len(themes) > 1 else np.zeros((0, 0)) for t in themes],
    }


def make_assignments(units: Sequence[Unit], themes: Sequence[ThemeInfo], labels: np.ndarray, scores: np.ndarray,
                     runner: np.ndarray, margins: np.ndarray, review_margin: float,
                     review: np.ndarray | None = None) -> list[Assignment]:
    """One :class:`Assignment` per unit: ``labels``/``runner`` index ``themes`` (-1: none).

    ``needs_review``: the unit is unassigned, its margin over the runner-up is below
    ``review_margin`` (rounded as written, so the flag matches the CSV), or ``review`` (a mask) marks
    it. A runner-up without a margin (NaN: the two scores are not on one scale) is named, no margin.
    """
    out = []
    review = np.zeros(len(labels), dtype=bool) if review is None else np.asarray(review, dtype=bool)
    for unit, k, score, second, margin, flagged in zip(units, labels, scores, runner, margins, review, strict=True):
        if k < 0:
            out.append(Assignment(unit.rec_id, UNASSIGNED_ID, UNASSIGNED_LABEL, 0.0, "unassigned",
                                  needs_review=True))
            continue
        theme = themes[k]
        margin = None if second < 0 or np.isnan(margin) else round(float(margin), 4)
        out.append(Assignment(
            unit.rec_id, theme.theme_id, theme.label, round(float(score), 4), theme.source,
            theme_runner_up=themes[second].theme_id if second >= 0 else "",
            theme_margin=margin, needs_review=bool(flagged) or (margin is not None and margin < review_margin)))
    return out
