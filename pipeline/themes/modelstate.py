"""A fitted :class:`~pipeline.themes.model.ThemeModel` as plain values and arrays, and back.

:class:`SavedState` is the part of the theme model that :mod:`pipeline.themes.store` writes to
``model.json`` and the arrays file and builds a fitted model from; each sub-model (codebook scorer,
discoverer) contributes its own fitted state. Kept apart from :mod:`pipeline.themes.model` so that
each file stays readable on its own.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.records import ThemeInfo
from pipeline.themes.discovery import ThemeDiscoverer
from pipeline.themes.keywords import ThemeLabeler
from pipeline.themes.memory import ExampleMemory
from pipeline.themes.scorer import CodebookScorer


class SavedState:
    """The theme model's saved state: what :mod:`pipeline.themes.store` writes to model.json and the
    arrays file, and builds a fitted model from. Each sub-model contributes its own fitted state."""

    #: Parameters that are objects, not values: a saved model records them its own way (or not at all:
    #: ``predict`` needs no reducer or clusterer).
    _OBJECT_PARAMS = ("embedder", "codebook", "tokenizer", "cluster_tokenizer", "reducer", "clusterer")

    @property
    def bertopic_(self):
        """The representation model (BERTopic; None when no theme has keywords). A fitted model's is
        fitted on first use: only saving needs it, so a codebook run that saves nothing never imports
        BERTopic. Set to a :class:`ThemeLabeler` (its BERTopic) or to a loaded BERTopic."""
        source = getattr(self, "_bertopic", None)
        return source.bertopic_ if isinstance(source, ThemeLabeler) else source

    @bertopic_.setter
    def bertopic_(self, source) -> None:
        self._bertopic = source

    def value_params(self) -> dict:
        """:meth:`get_params` less the object parameters: the values run.json and model.json record."""
        return {k: v for k, v in self.get_params(deep=False).items() if k not in self._OBJECT_PARAMS}

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted model as JSON-ready values and named arrays (for model.json and safetensors).

        ``params`` are :meth:`get_params` less the object parameters (the codebook and the embedder's
        identity are stored as values, the tokenizers by the caller); the sub-models add their state.
        """
        if not hasattr(self, "themes_"):
            raise ValueError("cannot save an unfitted ThemeModel: fit it first")
        state, arrays = self.discoverer_.to_state()
        book = self.codebook.to_dict() if self.codebook is not None else None
        scored = set(self.scored_rows[len(self.codebook or ()):])
        state.update(params=self.value_params(), embedder=None, codebook=book,
                     themes=[{"id": t.theme_id, "label": t.label, "source": t.source, "topic": self.topic_of_.get(k),
                              # A researcher theme is a prototype of the codebook step or a discovered centroid.
                              **({"vector": "prototype"} if k in scored else {})}
                             for k, t in enumerate(self.themes_)])
        if getattr(self, "memory_", None) is not None:
            state["examples"] = self.memory_.to_state()
        if self.needs_embedder:
            state["embedder"] = {"name": self.embedder.name, "model_id": self.embedder.model_id,
                                 "max_tokens": getattr(self.embedder, "max_tokens", None),
                                 "dim": int(self.center_.shape[0])}
            arrays["center"] = self.center_
        if self.codebook is not None:
            scorer_state, scorer_arrays = self.scorer_.to_state()
            state.update(scorer_state)
            arrays.update(scorer_arrays)
        return state, arrays

    @classmethod
    def from_state(cls, state: dict, arrays: dict[str, np.ndarray], **objects) -> SavedState:
        """A fitted model (less its BERTopic) from :meth:`to_state`'s output and the object parameters.

        Raises ``KeyError``/``ValueError`` when the state is incomplete or inconsistent.
        """
        model = cls(**objects, **state["params"])
        model.discoverer_ = ThemeDiscoverer.from_state(state, arrays, **model._sub_params(ThemeDiscoverer))
        model.center_ = arrays.get("center")
        model.scorer_ = None
        if model.codebook is not None:
            model.scorer_ = CodebookScorer.from_state(state, arrays, **model._sub_params(CodebookScorer))
        model.topic_of_ = {k: t["topic"] for k, t in enumerate(state["themes"]) if t["topic"] is not None}
        model.bertopic_ = None
        model.themes_ = [ThemeInfo(t["id"], t["label"], t["source"]) for t in state["themes"]]
        prototypes = [k for k, t in enumerate(state["themes"]) if t["source"] == "codebook"]
        model.scored_ = prototypes + [k for k, t in enumerate(state["themes"]) if t.get("vector") == "prototype"]
        n_centroids = len(model.themes_) - len(model.scored_)
        if n_centroids != len(model.discoverer_.centroids_):
            raise ValueError(f"{len(model.discoverer_.centroids_)} centroids for {n_centroids} discovered themes")
        if model.scorer_ is not None and len(model.scorer_.prototypes_) != len(model.scored_):
            raise ValueError(f"{len(model.scorer_.prototypes_)} prototypes for {len(model.scored_)} scored themes")
        model.memory_ = ExampleMemory.from_state(state["examples"]) if state.get("examples") else None
        return model
