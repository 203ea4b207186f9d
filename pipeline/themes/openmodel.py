"""The theme model's new-theme steps (:mod:`pipeline.themes.openset` applied to a fit or an assigned round).

:class:`NewThemeSteps` is the part of :class:`~pipeline.themes.model.ThemeModel` that finds the new
themes of a round from the codebook step's fits, and :meth:`~NewThemeSteps.predict_open`, which puts
an assigned round onto a saved model and then finds the round's own new themes. Kept apart from
:mod:`pipeline.themes.model` so that each file stays readable on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from sklearn.exceptions import NotFittedError

from pipeline.core.records import Assignment, ThemeInfo, Unit
from pipeline.themes.keywords import CANDIDATE_LABEL, ThemeLabeler, label_from_keywords
from pipeline.themes.modelinputs import UnitTerms
from pipeline.themes.openset import NewThemeFinder, new_theme_id
from pipeline.themes.scorer import CodebookScorer, make_assignments, rows_unit


class NewThemeSteps:
    """New themes for the theme model (its ``codebook``, ``new_themes``, ``min_new_theme_size``, ``seed``)."""

    def _find_new_themes(self, scorer: CodebookScorer, terms: UnitTerms, embeddings: np.ndarray, center: np.ndarray,
                         text_embeddings: np.ndarray, members: Sequence[str] | None = None) -> NewThemeFinder:
        """The round's new themes (:class:`pipeline.themes.openset.NewThemeFinder`) from ``scorer``'s fits:
        each unit's theme as the codebook step gives it, judged on the fits of its text alone and grouped by
        its text vector and keyword terms (the stopwords of a recommendation's template, 운영·사업·확대·필요·
        제안사항, say nothing of its subject; ``bench/README.md``, "New themes", has the figures); a pair
        is vouched for by its units' ``members`` or by a term of theirs that no codebook theme uses."""
        semantic, lexical = scorer.channels(terms.keyword, embeddings, center)
        labels = scorer.blend(semantic, lexical).argmax(axis=1)
        finder = NewThemeFinder(min_size=self.min_new_theme_size, seed=self.seed)
        return finder.fit(text_fits(scorer, text_embeddings), lexical, labels, text_embeddings, terms.keyword,
                          members, codebook_terms(scorer))

    def predict_open(self, units: Sequence[Unit], terms: UnitTerms | None = None, embeddings=None,
                     text_embeddings=None) -> tuple[list[Assignment], list[ThemeInfo]]:
        """:meth:`predict`, then the round's own new themes: out, the assignments and the themes they name
        (the model's, then this round's candidates ``new_theme_NN``, numbered after the model's own).

        A round put onto last year's model is where new concerns appear, so its units are judged as a
        fit judges them (:mod:`pipeline.themes.openset`), in a view of the codebook fitted to this
        round (centred on its mean, its own TF-IDF space); a unit in no new theme keeps the theme
        :meth:`predict` gives it, which depends on the unit alone.
        """
        if not hasattr(self, "themes_"):
            raise NotFittedError("ThemeModel is not fitted: call fit(units) or load a saved model")
        units, terms, embeddings, text = self._inputs(units, terms, embeddings, text_embeddings)
        out = self._predicted(units, terms, embeddings)
        themes, review = list(self.themes_), None
        if self.finds_new_themes:
            center = embeddings.mean(axis=0)
            local = CodebookScorer(**{**self._sub_params(CodebookScorer), "n_refine": 0, "min_similarity": -1.0})
            local.fit(terms.keyword, embeddings, center, self.embed_codebook()["prototypes"],
                      [np.zeros((0, 0))] * len(self.codebook))
            finder = self._find_new_themes(local, terms, embeddings, center, text, [u.member for u in units])
            if finder.groups_:
                review = place_new_themes(out, finder, len(themes))
                themes += self._name_round_themes(units, terms, embeddings, out[0], themes, len(finder.groups_))
        return self._remember(units, make_assignments(units, themes, *out, self.review_margin, review)), themes

    def _name_round_themes(self, units: list[Unit], terms: UnitTerms, embeddings, labels: np.ndarray,
                           themes: list[ThemeInfo], count: int) -> list[ThemeInfo]:
        """``count`` new themes of an assigned round (``themes`` are the model's), named from this round's
        c-TF-IDF keywords as a fit names its candidates."""
        ids = new_theme_ids(themes, count)
        labeler = ThemeLabeler(self.tokenizer, n_keywords=self.n_keywords)
        labeler.fit([u.text for u in units], labels, self._features(terms.cluster, embeddings),
                    self._features_for_texts, terms=terms.keyword)
        taken = {t.label for t in themes}
        new = []
        for j in range(count):
            keywords = labeler.keywords_.get(len(themes) + j, ())
            name = label_from_keywords(keywords, taken)
            taken.add(name)
            new.append(ThemeInfo(ids[j], CANDIDATE_LABEL.format(name), "discovered", keywords))
        return new


def text_fits(scorer: CodebookScorer, text_embeddings: np.ndarray) -> np.ndarray:
    """Centred cosine of each unit's text-only vector to ``scorer``'s prototypes (units x themes), both
    centred on the round's mean text vector, as the codebook step centres units in context.

    The new-theme evidence is read from these rather than from the vectors in context: a heading adds
    the same vector to every unit under it, so with it a unit's evidence moved with its agenda and
    units without headings were judged on other grounds than headed ones (``bench/README.md``).
    """
    text = np.asarray(text_embeddings, dtype=np.float64)
    center = text.mean(axis=0)
    return rows_unit(text - center) @ rows_unit(scorer.raw_prototypes_ - center).T


def codebook_terms(scorer: CodebookScorer) -> set[str]:
    """The Kiwi terms that some theme's lexical profile in ``scorer`` uses (its codebook text, and what
    it learnt from corrections)."""
    vocabulary = scorer.lexicon_.vocabulary_
    return {vocabulary[j] for j in np.unique(scorer.profiles_.indices)}


def place_new_themes(out: Sequence[np.ndarray], finder: NewThemeFinder, first: int) -> np.ndarray:
    """Write the units of ``finder``'s groups into a model's ``out`` (labels, scores, runner-ups, margins) as
    new themes ``first + j``; out: the mask of those units, which always need review.

    A member's score is its cosine to the rest of its group; its runner-up is the codebook theme it
    would otherwise take, without a margin (the two scores are not on one scale).
    """
    labels, scores, runner, margins = out
    rows = np.flatnonzero(finder.labels_ >= 0)
    runner[rows] = labels[rows]
    labels[rows] = first + finder.labels_[rows]
    scores[rows] = finder.scores_[rows]
    margins[rows] = np.nan
    review = np.zeros(len(labels), dtype=bool)
    review[rows] = True
    return review


def new_theme_ids(themes: Sequence[ThemeInfo], count: int) -> list[str]:
    """The first ``count`` ids ``new_theme_NN`` that no theme in ``themes`` has (a promoted candidate may keep
    its id in the codebook, and an assigned round's candidates follow the model's own)."""
    taken = {t.theme_id for t in themes}
    return list(itertools.islice((i for i in map(new_theme_id, itertools.count(1)) if i not in taken), count))
