"""The researcher's side of the theme model: themes a researcher made, and the units a researcher decided.

:class:`ResearcherThemes` is a part of :class:`pipeline.themes.model.ThemeModel` (a mixin: it works on the
model's fitted state). A correction may name a theme the model does not have, with its label, or give a
discovered theme a researcher's name (:meth:`ResearcherThemes.adopt`): both become themes with
``source`` = ``researcher``, the one kind of non-codebook theme a researcher owns. When the model learns
from a corrected run (``ThemeModel.learn``), a new researcher theme gets vectors of the same kind as the
model's own themes: with a codebook, a prototype and lexical profile in the codebook step (its own
units' centred mean and terms, :meth:`pipeline.themes.scorer.CodebookScorer.learn`), so it competes with
the codebook themes for every unit of a later round; without one, a discovered-theme centroid. The
model's own themes keep their vectors.

The model also remembers the decided units themselves (:class:`pipeline.themes.memory.ExampleMemory`):
``predict`` gives a unit a researcher decided (same ``rec_id``) the researcher's theme back, with
``theme_source`` = ``researcher`` as in the corrected run, and a unit nearly identical to one the theme of
its example, scored by the similarity and flagged for review unless the text is the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from pipeline.core.records import UNASSIGNED_ID, Assignment, ThemeInfo, Unit

RESEARCHER = "researcher"


class ResearcherThemes:
    """Researcher themes and remembered examples of a fitted :class:`~pipeline.themes.model.ThemeModel`.

    State (set by ``adopt`` and ``learn``, saved with the model): ``scored_`` (the ``themes_`` index of
    each row of the codebook step: the codebook themes, then researcher prototypes) and ``memory_``
    (the researcher's examples, or None).
    """

    @property
    def scored_rows(self) -> list[int]:
        """The ``themes_`` index of each row of the codebook step, in row order."""
        return list(getattr(self, "scored_", range(len(self.codebook or ()))))

    def adopt(self, new_themes: Mapping[str, str], renamed: Mapping[str, str] | None = None):
        """Make researcher themes: ``new_themes`` (id -> label) are added after the model's themes (they have no
        vectors until :meth:`learn`), and the discovered themes in ``renamed`` (id -> label) take the
        researcher's label and become researcher themes. Codebook themes are never renamed. Out: self."""
        renamed = renamed or {}
        themes = [replace(t, label=renamed[t.theme_id], source=RESEARCHER)
                  if t.theme_id in renamed and t.source != "codebook" else t for t in self.themes_]
        known = {t.theme_id for t in themes}
        self.themes_ = themes + [ThemeInfo(i, label, RESEARCHER) for i, label in new_themes.items()
                                 if i not in known and i != UNASSIGNED_ID]
        return self

    def _scored_labels(self, out: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The codebook step's (labels, scores, runner-ups, margins) with rows turned into ``themes_`` indices."""
        rows = np.asarray(self.scored_rows + [-1])
        labels, scores, runner, margins = out
        return [rows[labels], scores, rows[runner], margins]

    def _learning_rows(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per target theme (``themes_`` index): its row in the codebook step and its discovered centroid (-1: none).

        A researcher theme without vectors gets the next row of the codebook step in a model with a
        codebook, the next centroid in one without.
        """
        n_book = len(self.codebook or ())
        n_centroids = len(self.discoverer_.centroids_)
        scored = self.scored_rows
        if self.codebook is not None:
            # New rows in the order of the model's themes, the order a saved model lists them in.
            scored += sorted({k for k in targets.tolist() if k not in scored and k >= n_book + n_centroids})
        rows, centroids = np.full(len(targets), -1), np.full(len(targets), -1)
        for i, k in enumerate(targets.tolist()):
            if k in scored:
                rows[i] = scored.index(k)
            else:
                # New themes are appended after the discovered ones, so their centroids follow in the same order.
                centroids[i] = k - n_book
        self.scored_ = scored
        return rows, centroids

    def _learn_centroids(self, features, centroids: np.ndarray) -> None:
        """Centroids for the new researcher themes among ``centroids`` (the unit's centroid, -1: none; a new one is
        past the last): the mean of their units. The discovered themes' own centroids do not move."""
        old = self.discoverer_.centroids_
        grown = int(centroids.max()) + 1 - len(old)
        self.discoverer_.centroids_ = np.vstack([old, np.zeros((grown, old.shape[1]))])
        self.discoverer_.learn(features, np.where(centroids >= len(old), centroids, -1),
                               np.zeros(len(old) + grown, dtype=np.int64))

    def _remember(self, units: Sequence[Unit], assignments: list[Assignment]) -> list[Assignment]:
        """``assignments`` with the researcher's remembered decisions (the memory's module docstring)."""
        memory = getattr(self, "memory_", None)
        if memory is None:
            return assignments
        found, similarity = memory.match([u.rec_id for u in units], [u.text for u in units])
        themes = {t.theme_id: t for t in self.themes_}
        out = list(assignments)
        for i in np.flatnonzero(found >= 0).tolist():
            rec_id, theme_id, _ = memory.examples_[found[i]]
            a, theme = out[i], themes.get(theme_id)
            if theme is None:
                continue
            if rec_id == a.rec_id:
                out[i] = replace(a, theme_id=theme_id, theme_label=theme.label, theme_score=1.0,
                                 theme_source=RESEARCHER, theme_runner_up="", theme_margin=None, needs_review=False)
            elif theme_id != a.theme_id:
                # The model's own choice becomes the runner-up; a text that is not the same deserves a look.
                out[i] = replace(a, theme_id=theme_id, theme_label=theme.label, theme_score=round(similarity[i], 4),
                                 theme_source=theme.source, theme_runner_up=a.theme_id, theme_margin=None,
                                 needs_review=similarity[i] < 1.0)
        return out
