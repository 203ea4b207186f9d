"""New-theme rules a study can measure side by side: the code's own and earlier or alternative ones.

A rule is a name for a way of finding a round's new themes (:mod:`pipeline.themes.openset`). ``current``
is whatever the code does; every other rule is a :class:`~pipeline.themes.model.ThemeModel` subclass that
finds new themes its own way, so a study can fit, save, load and assign with it as with the code's model.
``bench.quality.loto --config`` and ``bench.quality.stress --param new_theme_rule=NAME`` take these names.
"""

from __future__ import annotations

from pipeline.themes.model import ThemeModel

#: Rule name -> what it changes (documentation; the classes below implement them).
RULES: dict[str, str] = {
    "current": "the code's defaults",
}


def rule_model(name: str) -> type[ThemeModel]:
    """The model class that finds new themes by rule ``name``."""
    if name not in RULES:
        raise KeyError(f"unknown new-theme rule {name!r}; known: {', '.join(RULES)}")
    return ThemeModel
