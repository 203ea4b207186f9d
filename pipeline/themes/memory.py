"""A saved model's memory of its researcher's examples.

A model saved from a corrected run (``advisory run --corrections … --save-model``) keeps every unit a
researcher decided: its ``rec_id``, its text and the theme it was given. :class:`ExampleMemory` finds,
for each unit a model is asked about, the decided unit that is the same one (same ``rec_id``: the same
round assigned again) or nearly the same text (the recommendation repeated in a later round with a word
or two changed), so that the researcher's decision is not re-litigated by the scorer.

"Nearly the same" is the cosine of character 2- to 4-gram counts (scikit-learn's stateless
``HashingVectorizer``, so nothing but the texts needs saving) of at least ``min_similarity``. On the
bundled round no two different units reach 0.51 and no unit of the two other test rounds reaches
0.38 against it, while replacing one word of a unit and appending another keeps 0.98: 0.9 lies well
between (``bench/README.md``, "Corrections").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import HashingVectorizer


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


class ExampleMemory(BaseEstimator):
    """The researcher's decided units, and which of them a unit is (or nearly is).

    Parameters: ``min_similarity`` in (0, 1], the character n-gram cosine from which a text counts as
    nearly the same as an example. Fitted: ``examples_`` (``(rec_id, theme_id, text)`` per example,
    in the order given; a rec_id given twice keeps its last theme).
    """

    def __init__(self, min_similarity: float = 0.9) -> None:
        self.min_similarity = min_similarity

    def _vectorizer(self) -> HashingVectorizer:
        return HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2**20, alternate_sign=False,
                                 norm="l2")

    def fit(self, rec_ids: Sequence[str], texts: Sequence[str], theme_ids: Sequence[str]) -> ExampleMemory:
        """Remember the units ``rec_ids`` (with their ``texts``) as examples of ``theme_ids``; out: self."""
        if not 0.0 < self.min_similarity <= 1.0:
            raise ValueError(f"min_similarity must be in (0, 1], got {self.min_similarity}")
        if not len(rec_ids) == len(texts) == len(theme_ids):
            raise ValueError("rec_ids, texts and theme_ids must have the same length")
        latest = {r: (r, t, _normal(x)) for r, x, t in zip(rec_ids, texts, theme_ids, strict=True)}
        self.examples_ = list(latest.values())
        return self

    def match(self, rec_ids: Sequence[str], texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per unit: the index of its example in ``examples_`` (-1: none) and the similarity (1.0 for its own
        ``rec_id``; else the best cosine, rounded to 4 decimals, ties to the earliest example, kept from
        ``min_similarity``)."""
        found, similarity = np.full(len(rec_ids), -1), np.zeros(len(rec_ids))
        if not self.examples_ or not len(rec_ids):
            return found, similarity
        own = {r: k for k, (r, _, _) in enumerate(self.examples_)}
        vectorizer = self._vectorizer()
        sims = (vectorizer.transform([_normal(t) for t in texts])
                @ vectorizer.transform([x for _, _, x in self.examples_]).T).toarray()
        best = sims.argmax(axis=1)
        near = sims[np.arange(len(rec_ids)), best]
        for i, rec_id in enumerate(rec_ids):
            if rec_id in own:
                found[i], similarity[i] = own[rec_id], 1.0
            elif near[i] >= self.min_similarity - 1e-12:
                found[i], similarity[i] = best[i], min(round(float(near[i]), 4), 1.0)
        return found, similarity

    def to_state(self) -> list[dict]:
        """The examples as JSON-ready rows (``rec_id, theme_id, text``)."""
        return [{"rec_id": r, "theme_id": t, "text": x} for r, t, x in self.examples_]

    @classmethod
    def from_state(cls, rows: Sequence[dict], **params) -> ExampleMemory:
        """A fitted memory from :meth:`to_state`'s rows; ``KeyError``/``TypeError`` when a row is malformed."""
        memory = cls(**params)
        memory.examples_ = [(str(r["rec_id"]), str(r["theme_id"]), str(r["text"])) for r in rows]
        return memory
