"""The theme model's new-theme steps (:mod:`pipeline.themes.openset` applied to a fit or an assigned round).

:class:`NewThemeSteps` is the part of :class:`~pipeline.themes.model.ThemeModel` that finds the new
themes of a round from the codebook step's fits, codes each as the codebook theme its promotion would
make of it (:meth:`~NewThemeSteps._code_candidates_as_themes`), and :meth:`~NewThemeSteps.predict_open`, which puts
an assigned round onto a saved model and then finds the round's own new themes. Kept apart from
:mod:`pipeline.themes.model` so that each file stays readable on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from sklearn.exceptions import NotFittedError

from pipeline.core.errors import InputError
from pipeline.core.records import Assignment, ThemeInfo, Unit
from pipeline.themes.bertopic_adapter import class_tfidf_keywords, term_document
from pipeline.themes.codebook import Codebook
from pipeline.themes.keywords import CANDIDATE_LABEL, ThemeLabeler, label_from_keywords
from pipeline.themes.modelinputs import UnitTerms
from pipeline.themes.openset import NewThemeFinder, leave_one_out, new_theme_id
from pipeline.themes.promote import candidate_theme, most_central, promote
from pipeline.themes.scorer import CodebookScorer, codebook_vectors, make_assignments, rows_unit


class NewThemeSteps:
    """New themes for the theme model (its ``codebook``, ``new_themes``, ``min_new_theme_size``, ``seed``)."""

    #: Promotions in :meth:`_code_candidates_as_themes`, and whether each looks again for groups among the units no
    #: candidate took (then promoted in the next pass); a study's switches, off by default (``bench/README.md``).
    promotion_passes: int = 1
    promotion_refind: bool = False

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

    def _code_candidates_as_themes(self, finder: NewThemeFinder, scorer: CodebookScorer,
                                   prototypes: Sequence[np.ndarray], texts: Sequence[str], terms: UnitTerms,
                                   embeddings: np.ndarray, center: np.ndarray, text_embeddings: np.ndarray,
                                   members: Sequence[str] | None = None) -> NewThemeFinder:
        """``finder``'s candidates as a researcher would find them after promoting each one and running again;
        out: ``finder`` with those groups (``scorer`` found them; ``prototypes``: the codebook's vectors).

        Each candidate becomes the codebook theme :mod:`pipeline.themes.promote` writes (its c-TF-IDF keywords
        and most central units, embedded as its prototype) and the round is coded once more against the
        codebook and the candidates, as every other theme is coded: a candidate's units are those whose best
        theme it is, of the units that do not fit the codebook (:meth:`_joinable`). The finder judges groups in
        a space of their own, where a concern's units worded unlike the rest of its group stay nearer some
        codebook theme's units; as a theme like the codebook's, they join it. Leaving one theme out of the
        bundled round, 0.69 of its units surface against 0.55, and 0.04 of the others go to new against 0.03
        (``bench/README.md``, "Candidates coded as promoted themes"). A candidate left with fewer than
        ``min_new_theme_size`` units is dropped, and every unit in no candidate keeps the theme the codebook
        gave it. The units left are not looked at again for groups of their own
        (:attr:`promotion_refind`): on the bundled round that made groups of mixed subjects.
        """
        if not finder.groups_:  # nothing to code: a round the codebook covers costs nothing more
            return finder
        features = finder.features(text_embeddings, terms.keyword)
        labels = scorer.blend(*scorer.channels(terms.keyword, embeddings, center)).argmax(axis=1)
        groups = list(finder.groups_)
        for _ in range(self.promotion_passes):
            coded = self._promoted_coding(groups, features, labels, prototypes, texts, terms, embeddings, center)
            if coded is None:
                break
            best, promoted = coded
            found = [] if not self.promotion_refind else self._find_new_themes(
                promoted, terms, embeddings, center, text_embeddings, members).groups_
            best[~self._joinable(finder)] = -1
            for group in found:
                best[group] = -1
            kept = [np.flatnonzero(best == len(self.codebook) + j) for j in range(len(groups))]
            groups = [g for g in kept if len(g) >= self.min_new_theme_size] + list(found)
            if not found:
                break
        return finder.regroup(features, groups)

    def _joinable(self, finder: NewThemeFinder) -> np.ndarray:
        """Per unit, whether it may take a promoted candidate: every unit that does not fit the codebook (its evidence
        of being known is less than substantial, :mod:`pipeline.themes.openset`), as only those units are not the
        ones that keep a group from being new. A unit the codebook explains keeps its theme: letting every unit
        join, as a plain rerun after promotion would, surfaced 0.70 instead of 0.69 of a left-out theme's units
        on the bundled round, but on twelve rounds coded together sent 7 of 174 known units to new instead of 5,
        and on a 3,000-unit synthetic round let 33 candidates take 2,419 units instead of 1,720
        (``bench/README.md``, "Candidates coded as promoted themes")."""
        return finder.novelty_ > -finder.veto

    def _promoted_coding(self, groups: Sequence[np.ndarray], features, labels: np.ndarray,
                         prototypes: Sequence[np.ndarray], texts: Sequence[str], terms: UnitTerms,
                         embeddings: np.ndarray, center: np.ndarray) -> tuple[np.ndarray, CodebookScorer] | None:
        """Each unit's best theme in the codebook with ``groups`` promoted (``len(codebook) + j``: group j), and the
        scorer that codes it (no floor, no refinement, as an assigned round's); None when a group has no keyword to
        describe it."""
        book = self._promoted_codebook(groups, features, labels, terms, texts)
        if book is None:
            return None
        added = codebook_vectors(self.embedder, Codebook(book.themes[len(self.codebook):]), False)
        promoted = CodebookScorer(**{**self._sub_params(CodebookScorer), "codebook": book, "n_refine": 0,
                                     "min_similarity": -1.0})
        promoted.fit(terms.keyword, embeddings, center, [*prototypes, *added["prototypes"]],
                     [np.zeros((0, 0))] * len(book))
        return promoted.blend(*promoted.channels(terms.keyword, embeddings, center)).argmax(axis=1), promoted

    def _promoted_codebook(self, groups: Sequence[np.ndarray], features, labels: np.ndarray, terms: UnitTerms,
                           texts: Sequence[str]) -> Codebook | None:
        """The codebook with each of ``groups`` added as :func:`~pipeline.themes.promote.candidate_theme` makes it:
        keywords by c-TF-IDF against the codebook themes' units (``labels``), its units closest to the rest of
        the group as examples; None when a group has no keyword."""
        n_book = len(self.codebook)
        placed = labels.copy()
        for j, g in enumerate(groups):
            placed[g] = n_book + j
        topic_of, words = class_tfidf_keywords([term_document(t) for t in terms.keyword], placed, self.n_keywords)
        ids = new_theme_ids([ThemeInfo(t.theme_id, t.label, "codebook") for t in self.codebook.themes], len(groups))
        book = self.codebook
        for j, g in enumerate(groups):
            closeness = leave_one_out(features, g, np.asarray(features[g].sum(axis=0)).ravel())
            examples = [texts[i] for i in most_central(g.tolist(), closeness.tolist())]
            try:
                theme = candidate_theme(ids[j], "", words.get(topic_of[n_book + j], ()), examples)
            except InputError:  # no keyword: nothing to describe the group by
                return None
            book = promote(book, theme)
        return book

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
            prototypes = self.embed_codebook()["prototypes"]
            local = CodebookScorer(**{**self._sub_params(CodebookScorer), "n_refine": 0, "min_similarity": -1.0})
            local.fit(terms.keyword, embeddings, center, prototypes, [np.zeros((0, 0))] * len(self.codebook))
            members = [u.member for u in units]
            finder = self._find_new_themes(local, terms, embeddings, center, text, members)
            finder = self._code_candidates_as_themes(finder, local, prototypes, [u.text for u in units], terms,
                                                     embeddings, center, text, members)
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
