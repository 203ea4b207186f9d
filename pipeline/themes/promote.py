"""Promoting a new-theme candidate into the codebook (``advisory codebook promote``).

A candidate (:mod:`pipeline.themes.openset`) is a group of a round's units that fit no codebook theme,
named ``새 주제 후보: <keywords>`` until a researcher names it. Promoting it writes what a codebook theme
needs (:mod:`pipeline.themes.codebook`): the researcher's id and label, a description and keywords
from the candidate's c-TF-IDF keywords, and the candidate's units, most central first (the highest theme
scores: closest to the rest of the group) as examples, the texts whose embeddings become the theme's
prototype (up to :data:`PROMOTED_EXAMPLES`). A rerun with the new codebook then finds those units under
it as a codebook theme. The same entry, as YAML, is what the report offers to copy for each candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import yaml

from pipeline.core.errors import InputError
from pipeline.core.records import Assignment, Unit
from pipeline.themes.codebook import Codebook, CodebookTheme
from pipeline.themes.keywords import CANDIDATE_LABEL

#: Keywords a promoted theme takes from its candidate, and how many of them its description names.
PROMOTED_KEYWORDS = 8
_DESCRIBED_KEYWORDS = 5
#: Examples a promoted theme takes: its candidate's units, most central first. The bundled codebook has
#: four a theme; a candidate of up to five units gives every unit, so that a rerun files each of them
#: under the new theme (with three, a candidate's least central unit could be pulled into another group).
PROMOTED_EXAMPLES = 5


def unnamed(label: str) -> str:
    """A candidate's label without the ``새 주제 후보: `` prefix (its keywords' name)."""
    prefix = CANDIDATE_LABEL.format("")
    return label[len(prefix):] if label.startswith(prefix) else label


def candidate_theme(theme_id: str, label: str, keywords: Sequence[str], examples: Sequence[str]) -> CodebookTheme:
    """The codebook theme a candidate becomes: ``label`` (whitespace folded; the keywords' name when
    empty), a description naming its first keywords, up to :data:`PROMOTED_KEYWORDS` keywords, and
    ``examples`` (unit texts, each on one line). Raises ``InputError`` for an invalid id or no keywords."""
    label = " ".join(unnamed(label).split()) or "·".join(keywords[:3])
    words = [w for w in dict.fromkeys(" ".join(k.split()) for k in keywords) if w][:PROMOTED_KEYWORDS]
    if not words:
        raise InputError(theme_id, "후보를 설명할 핵심어가 없습니다")
    description = f"{label}: {', '.join(words[:_DESCRIBED_KEYWORDS])}에 관한 권고 (회차에서 발견한 새 주제)"
    book = Codebook.from_dict({"themes": [{"id": theme_id, "label": label, "description": description,
                                           "keywords": words, "examples": [" ".join(e.split()) for e in examples
                                                                           if e.strip()]}]}, source=theme_id)
    return book.themes[0]


def candidate_examples(theme_id: str, units: Sequence[Unit], assignments: Sequence[Assignment]) -> list[str]:
    """The texts a candidate's codebook entry takes as examples: its units by theme score (closest to the
    rest of the group first; ties in round order), up to :data:`PROMOTED_EXAMPLES`."""
    score = {a.rec_id: a.theme_score for a in assignments if a.theme_id == theme_id}
    rows = [i for i, u in enumerate(units) if u.rec_id in score]
    return [units[i].text for i in most_central(rows, [score[units[i].rec_id] for i in rows])]


def most_central(rows: Sequence[int], scores: Sequence[float]) -> list[int]:
    """The ``rows`` a promoted theme takes as examples: highest ``scores`` (closeness to the rest of the group)
    first, ties in row order, up to :data:`PROMOTED_EXAMPLES`."""
    return [row for _, row in sorted(zip(scores, rows, strict=True), key=lambda p: (-p[0], p[1]))][:PROMOTED_EXAMPLES]


def promote(codebook: Codebook, theme: CodebookTheme) -> Codebook:
    """``codebook`` with ``theme`` added last; ``InputError`` naming the codebook when the id is taken."""
    if theme.theme_id in codebook.ids:
        raise InputError(codebook.source or "코드북", f"주제 ID {theme.theme_id!r}은(는) 이미 코드북에 있습니다; "
                                                     "다른 ID를 고르세요 (--id)")
    return replace(codebook, themes=(*codebook.themes, theme), sha256="")


def _entry(theme: CodebookTheme) -> dict:
    return {"id": theme.theme_id, "label": theme.label, "description": theme.description,
            "keywords": list(theme.keywords), "examples": list(theme.examples)}


def _dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False)


def theme_yaml(theme: CodebookTheme) -> str:
    """One theme as the list item ``themes.yaml`` holds (to paste under ``themes:``)."""
    return _dump([_entry(theme)])


def codebook_yaml(codebook: Codebook) -> str:
    """A whole codebook in the layout of ``corpus/themes.yaml``, readable by :func:`load_codebook`."""
    return _dump({"version": 1, "themes": [_entry(t) for t in codebook.themes]})

