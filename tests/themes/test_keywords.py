"""Theme keywords and names: labels from keywords skip overlaps and stay unique, term documents split back into
their terms, the labeler never tokenizes a theme's joined text."""

from __future__ import annotations

import numpy as np

from pipeline.features.tokenizer import KiwiTokenizer
from pipeline.themes.bertopic_adapter import split_term_document, term_document
from pipeline.themes.keywords import ThemeLabeler, label_from_keywords


def test_label_from_keywords_skips_overlaps_and_stays_unique():
    assert label_from_keywords(["판로", "판로지원", "유통", "상생상회"]) == "판로·유통·상생상회"
    assert label_from_keywords(["판로", "유통", "시장", "농산물"], taken={"판로·유통·시장"}) == "판로·유통·시장·농산물"
    assert label_from_keywords(["판로"], taken={"판로"}) == "판로 2"
    assert label_from_keywords([]) == "기타"


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
