"""KiwiTokenizer: dictionary terms stay whole, stopwords go, batch equals single, sklearn and copies work."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.core.errors import InputError
from pipeline.features.tokenizer import (
    DEFAULT_STOPWORDS,
    DEFAULT_USER_DICT,
    KiwiTokenizer,
    read_stopwords,
    read_user_dict,
    tokenize_views,
)

SEED = Path(__file__).resolve().parents[2] / "corpus" / "rounds" / "000_95284008f5259e47.txt"


@pytest.fixture(scope="module")
def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8-sig")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


@pytest.fixture(scope="module")
def tok() -> KiwiTokenizer:
    return KiwiTokenizer(workers=2)


@pytest.fixture(scope="module")
def tok_no_stop() -> KiwiTokenizer:
    return KiwiTokenizer(stopwords=None, workers=2)


@pytest.mark.parametrize(
    ("text", "term", "split_parts"),
    [
        ("넥스트로컬 참여자들의 사업홍보", "넥스트로컬", {"넥스트", "로컬"}),
        ("지역의 생활인구 유입 확대", "생활인구", {"생활"}),
        ("상생상회 별도 zone 구축", "상생상회", {"상회"}),
        ("서울시 지역상생교류 추진계획", "지역상생교류", {"상생", "교류"}),
        ("서울농장·워케이션 운영 사업", "워케이션", {"케이션"}),
        ("고향사랑기부제와 연계한 펀딩", "고향사랑기부제", {"고향", "사랑", "기부"}),
        ("인구감소지역의 인구활력 사업", "인구감소지역", {"감소"}),
        ("광역단위의 중간지원조직 역할", "중간지원조직", {"중간"}),
        ("(3-2-1) 농부의 시장 운영 사업", "농부의 시장", {"농부", "시장"}),
    ],
)
def test_dictionary_terms_stay_whole(tok_no_stop, text, term, split_parts):
    terms = tok_no_stop(text)
    assert term in terms
    assert not split_parts & set(terms)


def test_spelling_variants_map_to_one_term(tok_no_stop):
    assert "농부의 시장" in tok_no_stop("농부시장의 농산물과 서울 셰프 교류")
    assert "농부의 시장" in tok_no_stop("농부의시장 참여 업소")
    assert "넥스트로컬" in tok_no_stop("넥스트 로컬 사업은 청년의 창업을 돕는다")
    assert "엑셀러레이터" in tok_no_stop("임팩트 액셀러레이터를 매칭")


def test_stopwords_are_dropped_and_compounds_survive(tok):
    assert tok("서울시 지역 사업 추진 필요") == []
    terms = tok("사업홍보 및 판로지원 등 서울-지역의 지속적 지원방안")
    # 지원방안 is made of stopwords only; 판로지원 and 사업홍보 carry a theme word.
    assert terms == ["홍보", "사업홍보", "판로", "판로지원"]
    assert "제안사항" not in tok("(제안사항) 광역지자체 역할의 쟁점")


def test_short_nouns_only_inside_compounds(tok):
    terms = tok("서울-지역의 기여도 증대 방안")
    assert "기여도" in terms and "도" not in terms


def test_batch_equals_single(tok, seed_paragraphs):
    assert tok.tokenize_batch(seed_paragraphs) == [tok(p) for p in seed_paragraphs]


def test_workers_zero_runs_single_threaded(tok, seed_paragraphs):
    single = KiwiTokenizer(workers=0)
    sample = seed_paragraphs[:30]
    assert single.tokenize_batch(sample) == tok.tokenize_batch(sample)


def test_views_share_one_analysis_and_equal_separate_tokenization(seed_paragraphs):
    keyword, cluster = KiwiTokenizer(workers=2), KiwiTokenizer(stopwords=None, workers=2)
    with_stop, without_stop = tokenize_views(seed_paragraphs, [keyword, cluster])
    # The clustering view never needed a Kiwi model of its own.
    assert cluster._kiwi is None
    assert with_stop == KiwiTokenizer(workers=2).tokenize_batch(seed_paragraphs)
    assert without_stop == KiwiTokenizer(stopwords=None, workers=2).tokenize_batch(seed_paragraphs)
    assert with_stop != without_stop


def test_views_with_another_dictionary_or_a_plain_callable_tokenize_on_their_own(tmp_path, seed_paragraphs):
    (tmp_path / "dict.tsv").write_text("상생상회\tNNP\n", encoding="utf-8")
    other = KiwiTokenizer(user_dict=tmp_path / "dict.tsv", workers=0)
    bundled = KiwiTokenizer(workers=2)
    assert not bundled.shares_analysis_with(other)
    views = tokenize_views(seed_paragraphs[:5], [bundled, other, str.split])
    assert views[1] == [other(p) for p in seed_paragraphs[:5]]
    assert views[2] == [p.split() for p in seed_paragraphs[:5]]


def test_negative_workers_rejected():
    with pytest.raises(ValueError, match="workers"):
        KiwiTokenizer(workers=-1)


def test_inside_tfidf_vectorizer(tok, seed_paragraphs):
    vectorizer = TfidfVectorizer(tokenizer=tok, lowercase=False, token_pattern=None)
    matrix = vectorizer.fit_transform(seed_paragraphs)
    vocabulary = set(vectorizer.vocabulary_)
    assert matrix.shape[0] == len(seed_paragraphs)
    assert {"넥스트로컬", "생활인구", "상생상회", "판로", "홍보"} <= vocabulary
    assert not {"서울시", "지역", "사업", "필요", "추진"} & vocabulary


def test_deepcopy_and_pickle_after_use(tok, seed_paragraphs):
    sample = seed_paragraphs[:20]
    expected = tok.tokenize_batch(sample)
    for clone in (copy.deepcopy(tok), pickle.loads(pickle.dumps(tok))):
        assert clone._kiwi is None
        assert clone.tokenize_batch(sample) == expected
    assert repr(copy.deepcopy(tok)) == repr(tok)


def test_custom_dictionary_and_errors(tmp_path):
    user_dict = tmp_path / "dict.tsv"
    user_dict.write_text("# test\n시골청년도시출장사무소\tNNP\t0\n시골 사무소\t시골청년도시출장사무소/NNP\n")
    stopwords = tmp_path / "stop.txt"
    stopwords.write_text("운영  # trailing comment\n")
    tok = KiwiTokenizer(user_dict=user_dict, stopwords=stopwords, workers=1)
    assert tok("시골청년도시출장사무소 운영") == ["시골청년도시출장사무소"]
    assert tok("시골 사무소") == ["시골청년도시출장사무소"]

    bad = tmp_path / "bad.tsv"
    bad.write_text("워케이션\n")
    with pytest.raises(InputError, match=r"bad\.tsv: 1행"):
        KiwiTokenizer(user_dict=bad)
    with pytest.raises(InputError, match="읽을 수 없습니다"):
        KiwiTokenizer(stopwords=tmp_path / "missing.txt")


def test_bundled_dictionaries_are_consistent():
    entries = read_user_dict(DEFAULT_USER_DICT)
    words = [entry.word for entry in entries]
    assert len(words) == len(set(words))
    assert {"생활인구", "넥스트로컬", "상생상회", "워케이션", "농부의 시장"} <= {e.canonical for e in entries}
    theme_words = {
        "홍보",
        "판로",
        "유통",
        "창업",
        "평가",
        "지표",
        "성과",
        "수요",
        "대학",
        "청년",
        "생활인구",
        "넥스트로컬",
    }
    assert not theme_words & read_stopwords(DEFAULT_STOPWORDS)
