"""The theme model: codebook and discovery modes, unit-by-unit prediction, units no codebook theme fits,
seeds and parameter checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.features.embedders import make_embedder, unit_passages
from pipeline.features.tokenizer import KiwiTokenizer
from pipeline.themes.clustering import nmf_agreement
from pipeline.themes.codebook import load_codebook
from pipeline.themes.model import ThemeModel

# Off-topic units (sports news): no codebook theme fits them.
OFF_TOPIC = [
    "축구 경기에서 홈팀이 후반 추가시간에 결승골을 넣어 2대1로 승리함",
    "프로야구 정규시즌 개막전에서 선발 투수가 7이닝 무실점 호투",
    "농구 리그 플레이오프 진출팀이 확정되어 팬들의 관심이 집중됨",
    "배구 대표팀이 국제대회 예선에서 3연승을 거둠",
    "마라톤 대회 참가자들이 한강변 코스를 완주함",
    "수영 국가대표 선수가 자유형 200미터 한국 신기록 수립",
]


@pytest.fixture(scope="module")
def tfidf_embedder(units):
    embedder = make_embedder("tfidf")
    return embedder.fit(unit_passages(units))


@pytest.fixture(scope="module")
def codebook_model(units, tfidf_embedder):
    return ThemeModel(tfidf_embedder, load_codebook(), seed=0).fit(units)


@pytest.fixture(scope="module")
def discovery_model(units):
    return ThemeModel(None, None, seed=0).fit(units)


# ---- codebook ---------------------------------------------------------------------------------


# ---- building blocks --------------------------------------------------------------------------


# ---- the model --------------------------------------------------------------------------------


def test_codebook_mode_assigns_every_unit_to_a_codebook_theme(units, codebook_model):
    assignments = codebook_model.assignments_
    assert [a.rec_id for a in assignments] == [u.rec_id for u in units]
    assert {a.theme_source for a in assignments} == {"codebook"}
    assert {a.theme_id for a in assignments} <= set(load_codebook().ids)
    assert all(0.0 <= a.theme_score <= 1.0 for a in assignments)
    ari, compared = nmf_agreement(codebook_model.tokenize(units).keyword, codebook_model.labels_)
    assert -1.0 <= ari <= 1.0 and compared == len(units)


def test_prediction_is_unit_by_unit(units, codebook_model):
    batch = codebook_model.predict(units)
    alone = [codebook_model.predict([u])[0] for u in units]
    reversed_batch = codebook_model.predict(units[::-1])[::-1]
    assert batch == alone == reversed_batch
    # Predicting the round the model was fitted on reproduces the fitted themes.
    assert [a.theme_id for a in batch] == [a.theme_id for a in codebook_model.assignments_]


def test_units_that_fit_no_codebook_theme_are_discovered(units, tfidf_embedder):
    off = [replace(units[0], rec_id=f"off{i}", text=t, agenda="", question="", program_codes=(),
                   code_sources=(), fields=()) for i, t in enumerate(OFF_TOPIC)]
    embedder = make_embedder("tfidf").fit(unit_passages(units + off))
    # The floor is off by default (bench/quality/stress.py); a researcher who asks for it gets off-codebook text discovered.
    model = ThemeModel(embedder, load_codebook(), seed=0, min_similarity="auto").fit(units + off)
    by_id = {a.rec_id: a for a in model.assignments_}
    assert {by_id[u.rec_id].theme_source for u in off} == {"discovered"}
    assert {by_id[u.rec_id].theme_source for u in units} == {"codebook"}
    discovered = [t for t in model.themes_ if t.source == "discovered"]
    assert len(discovered) == 1 and discovered[0].label and discovered[0].keywords


def test_discovery_mode_names_themes_from_keywords_without_stopwords(units, discovery_model):
    themes = discovery_model.themes_
    assert themes and {t.source for t in themes} == {"discovered"}
    assert len({t.label for t in themes}) == len(themes)
    stopwords = KiwiTokenizer().stopwords_
    for theme in themes:
        assert 1 <= len(theme.keywords) <= 10
        assert not set(theme.keywords) & stopwords
        assert theme.label.split("·")[0] in theme.keywords
    assert {a.theme_source for a in discovery_model.assignments_} == {"discovered"}


def test_codebook_keywords_hold_no_stopword(codebook_model):
    stopwords = KiwiTokenizer().stopwords_
    for theme in codebook_model.themes_:
        assert not set(theme.keywords[:10]) & stopwords, theme.theme_id


def test_same_seed_same_themes(units):
    first = ThemeModel(None, None, seed=3).fit(units).assignments_
    second = ThemeModel(None, None, seed=3).fit(units).assignments_
    assert first == second


def test_parameters_are_validated_at_the_boundary(units):
    with pytest.raises(ValueError, match="lexical_weight"):
        ThemeModel(None, None, lexical_weight=2.0).fit(units)
    with pytest.raises(ValueError, match="embedder is needed"):
        ThemeModel(None, load_codebook()).fit(units)
    with pytest.raises(ValueError, match="no units"):
        ThemeModel(None, None).fit([])


def test_a_new_unit_sharing_no_term_with_any_theme_is_unassigned(units, discovery_model):
    stranger = replace(units[0], rec_id="stranger", text="The quick brown fox jumps over the lazy dog")
    familiar = discovery_model.predict([units[0]])[0]
    assert discovery_model.predict([stranger])[0].theme_source == "unassigned"
    assert familiar == discovery_model.assignments_[0]
