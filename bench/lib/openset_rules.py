"""New-theme rules a study can measure side by side: the code's own, the one it replaced, and alternatives.

A rule is a name for a way of finding a round's new themes (:mod:`pipeline.themes.openset`). ``current``
is whatever the code does; every other rule is a :class:`~pipeline.themes.model.ThemeModel` subclass
whose new-theme step judges other fits or runs :class:`~pipeline.themes.openset.NewThemeFinder` with
other parameters, so a study fits, saves, loads (:func:`as_rule`) and assigns with it as with the
code's model. ``bench.quality.loto --config NAME`` and ``bench.quality.stress --param
new_theme_rule=NAME`` take these names. The rules from ``issue20`` to ``current`` add one change each.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from pipeline.themes.model import ThemeModel
from pipeline.themes.openmodel import text_fits
from pipeline.themes.openset import NewThemeFinder

_LOG10 = math.log(10.0)

#: Rule name -> (what it is, the fits it judges: "text" or "context" (with headings), the evidence it
#: drops: None, "lexical" or "semantic", and its NewThemeFinder parameters). ``current`` is the code.
RULES: dict[str, tuple[str, str, str | None, dict]] = {
    "current": ("the code's defaults", "text", None, {}),
    "issue20": ("the rule of issue 20 (code e8d056d): fits in context, k-means seeds settled, three members, "
                "every unit that is not a candidate vetoes", "context", None,
                {"min_size": 3, "veto": 0.0, "grouping": "kmeans"}),
    "text_fits": ("issue20, judged on the fits of the text alone", "text", None,
                  {"min_size": 3, "veto": 0.0, "grouping": "kmeans"}),
    "tree": ("text_fits, groups from the dendrogram", "text", None, {"min_size": 3, "veto": 0.0, "grouping": "tree"}),
    "pairs": ("tree, and groups of two", "text", None, {"veto": 0.0, "grouping": "tree"}),
    "headings": ("current, judged on the fits in context (headings as evidence)", "context", None, {}),
    "headings_support": ("current, each fit the better of in context and text alone", "support", None, {}),
    "no_pairs": ("current with three members at least", "text", None, {"min_size": 3}),
    "loose_pairs": ("current, a pair needing no more evidence than a larger group", "text", None,
                    {"pair_evidence": 0.0}),
    "veto_10": ("current, vetoes and pairs at a likelihood ratio of 10", "text", None,
                {"veto": _LOG10, "pair_evidence": _LOG10}),
    "kmeans": ("current, k-means seeds settled instead of the dendrogram", "text", None, {"grouping": "kmeans"}),
    "semantic_only": ("current, the evidence of the sentence vectors alone", "text", "lexical", {}),
    "lexical_only": ("current, the evidence of the Kiwi terms alone", "text", "semantic", {}),
}


@functools.cache
def rule_model(name: str) -> type[ThemeModel]:
    """The model class that finds new themes by rule ``name`` (one class per name)."""
    if name not in RULES:
        raise KeyError(f"unknown new-theme rule {name!r}; known: {', '.join(RULES)}")
    if name == "current":
        return ThemeModel
    _, view, dropped, params = RULES[name]

    class RuleModel(ThemeModel):
        def _find_new_themes(self, scorer, terms, embeddings, center, text_embeddings) -> NewThemeFinder:
            semantic, lexical = scorer.channels(terms.keyword, embeddings, center)
            labels = scorer.blend(semantic, lexical).argmax(axis=1)
            text = text_fits(scorer, text_embeddings)
            fits = {"context": semantic, "text": text, "support": np.maximum(semantic, text)}[view]
            if dropped == "lexical":
                lexical = np.zeros_like(lexical)  # no spread: the kind of evidence adds nothing
            elif dropped == "semantic":
                fits = np.zeros_like(fits)
            finder = NewThemeFinder(**{"min_size": self.min_new_theme_size, "seed": self.seed, **params})
            return finder.fit(fits, lexical, labels, text_embeddings, terms.cluster)

    RuleModel.__name__ = RuleModel.__qualname__ = f"ThemeModel_{name}"
    return RuleModel


def as_rule(model: ThemeModel, name: str) -> ThemeModel:
    """A loaded model (``load_model`` makes a plain :class:`ThemeModel`) that finds new themes by rule ``name``."""
    model.__class__ = rule_model(name)
    return model
