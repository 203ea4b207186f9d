"""Theme model: codebook loading, lexical space, clustering step, labels, codebook/discovery modes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.core.errors import InputError
from pipeline.features.embedders import make_embedder, unit_passages
from pipeline.features.tokenizer import KiwiTokenizer
from pipeline.read.rounds import load_units
from pipeline.themes.bertopic_adapter import split_term_document, term_document
from pipeline.themes.clustering import AutoKMeans, LexicalSpace, NMFView, nmf_agreement
from pipeline.themes.codebook import DEFAULT_CODEBOOK, Codebook, load_codebook
from pipeline.themes.keywords import ThemeLabeler, label_from_keywords
from pipeline.themes.model import ThemeModel

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
CONTRACT_IDS = {
    "branding", "living_population", "nextlocal_roles", "sales_channels", "performance_evaluation",
    "governance_finance", "startup_support", "demand_targeting", "university_research", "new_exchange_programs",
}
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
def units():
    return load_units([SEED])


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


def test_bundled_codebook_has_the_contract_ids():
    book = load_codebook()
    assert set(book.ids) >= CONTRACT_IDS
    assert book.sha256 and book.source == str(DEFAULT_CODEBOOK)
    for theme in book.themes:
        assert theme.keywords and theme.examples and theme.description


def test_codebook_round_trips_through_dict():
    book = load_codebook()
    again = Codebook.from_dict(book.to_dict())
    assert again.themes == book.themes


@pytest.mark.parametrize("text, reason", [
    ("themes: [", "not valid UTF-8 YAML"),
    ("version: 1\n", "non-empty 'themes:' list"),
    ("themes:\n  - {id: Bad-Id, label: x, description: y, keywords: [a]}\n", "lowercase ASCII"),
    ("themes:\n  - {id: a, label: x, description: y, keywords: [k]}\n"
     "  - {id: a, label: x, description: y, keywords: [k]}\n", "duplicate id"),
    ("themes:\n  - {id: a, description: y, keywords: [k]}\n", "'label' must be a non-empty string"),
    ("themes:\n  - {id: a, label: x, description: y, keywords: k}\n", "list of non-empty strings"),
    ("themes:\n  - {id: a, label: x, description: y, keywords: []}\n", "must not be empty"),
])
def test_bad_codebook_is_one_line_error_naming_the_file(tmp_path, text, reason):
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_codebook(path)
    message = str(err.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_missing_codebook_names_the_file(tmp_path):
    with pytest.raises(InputError, match="cannot read codebook"):
        load_codebook(tmp_path / "nope.yaml")


# ---- building blocks --------------------------------------------------------------------------


def test_lexical_space_matches_sklearn_and_round_trips():
    docs = [["판로", "유통", "판로"], ["성과", "지표"], ["판로", "성과", "청년"], []]
    space = LexicalSpace().fit(docs)
    reference = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True).fit(docs)
    ours = space.transform(docs).toarray()
    theirs = reference.transform(docs).toarray()[:, np.argsort(reference.get_feature_names_out())]
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    again = LexicalSpace.from_state(*space.get_state())
    np.testing.assert_array_equal(again.transform([["판로", "모르는말"]]).toarray(),
                                  space.transform([["판로", "모르는말"]]).toarray())


def test_autokmeans_candidates_follow_the_rule():
    km = AutoKMeans()
    assert km.candidate_ks(52) == [6, 7, 8, 9, 10]
    assert km.candidate_ks(8) == [1]
    assert km.candidate_ks(100_000) == [50]
    assert len(km.candidate_ks(2_000)) <= 12
    assert AutoKMeans(n_clusters=4).candidate_ks(3) == [3]
    with pytest.raises(ValueError):
        AutoKMeans(n_clusters=0).candidate_ks(10)


def test_autokmeans_finds_separated_blobs_and_scales():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(7, 5)) * 20
    x = np.vstack([c + rng.normal(size=(10, 5)) for c in centers])  # n=70: candidates 6..14
    km = AutoKMeans(random_state=0).fit(x)
    assert km.n_clusters_ == 7
    np.testing.assert_array_equal(km.predict(x), km.labels_)
    # Mini-batch k-means and the Davies-Bouldin choice of k keep 30k points cheap (no pairwise matrix).
    big = np.vstack([c + rng.normal(size=(4_300, 5)) for c in centers])
    fitted = AutoKMeans(minibatch_above=10_000, random_state=0).fit(big)
    assert fitted.labels_.shape == (len(big),) and 2 <= fitted.n_clusters_ <= 50


def test_label_from_keywords_skips_overlaps_and_stays_unique():
    assert label_from_keywords(["판로", "판로지원", "유통", "상생상회"]) == "판로·유통·상생상회"
    assert label_from_keywords(["판로", "유통", "시장", "농산물"], taken={"판로·유통·시장"}) == "판로·유통·시장·농산물"
    assert label_from_keywords(["판로"], taken={"판로"}) == "판로 2"
    assert label_from_keywords([]) == "기타"


def test_nmf_view_gives_one_topic_per_unit():
    docs = [["판로", "유통"], ["판로", "시장"], ["성과", "지표"], ["성과", "평가"], []]
    labels = NMFView(2, random_state=0).fit_predict(docs)
    assert len(labels) == 5 and labels[-1] == -1
    assert labels[0] == labels[1] != labels[2] == labels[3]


# ---- the model --------------------------------------------------------------------------------


def test_codebook_mode_assigns_every_unit_to_a_codebook_theme(units, codebook_model):
    assignments = codebook_model.assignments_
    assert [a.rec_id for a in assignments] == [u.rec_id for u in units]
    assert {a.theme_source for a in assignments} == {"codebook"}
    assert {a.theme_id for a in assignments} <= CONTRACT_IDS
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


def test_term_documents_split_back_into_their_terms_even_when_joined():
    docs = [["생활인구", "농부의 시장"], [], ["워케이션"]]
    joined = " ".join(term_document(d) for d in docs)  # how BERTopic joins a topic's documents
    assert split_term_document(joined) == ["생활인구", "농부의 시장", "워케이션"]
    assert term_document([]) != ""  # BERTopic would replace an empty document with "emptydoc"


class _CountingTokenizer(KiwiTokenizer):
    def __init__(self) -> None:
        super().__init__()
        self.longest = 0

    def __call__(self, text: str) -> list[str]:
        self.longest = max(self.longest, len(text))
        return super().__call__(text)

    def tokenize_batch(self, texts):
        self.longest = max([self.longest, *map(len, texts)])
        return super().tokenize_batch(texts)


def test_labeler_never_tokenizes_a_theme_as_one_long_string(units):
    # Kiwi on one string of a whole theme is superlinear; the labeler must reuse per-unit terms.
    tok = _CountingTokenizer()
    texts = [u.text for u in units]
    terms = KiwiTokenizer().tokenize_batch(texts)
    labels = np.arange(len(units)) % 3
    labeler = ThemeLabeler(tok).fit(texts, labels, np.eye(len(units)), lambda t: np.zeros((len(t), 1)), terms=terms)
    assert tok.longest == 0
    assert all(labeler.keywords_[k] for k in range(3))
    # What BERTopic shows as representative documents are the theme's own recommendations.
    for theme, topic in labeler.topic_of_.items():
        docs = labeler.bertopic_.representative_docs_[topic]
        assert docs and set(docs) <= {t for t, k in zip(texts, labels, strict=True) if k == theme}
        assert len(docs) == len(set(docs))
    # The fitted model still reads raw text with Kiwi (BERTopic's own transform path).
    assert "생활인구" in labeler.bertopic_.vectorizer_model.build_analyzer()("지역의 생활인구 유입")


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
