"""BERTopic's c-TF-IDF keywords as the adapter computes them match BERTopic's own."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.themes.bertopic_adapter import class_tfidf_keywords, make_bertopic, term_document
from pipeline.themes.keywords import topic_keywords


def _bertopic_words(documents: list[str], labels: np.ndarray, n_keywords: int):
    """Topic numbers and words of a BERTopic fitted on fixed labels, as the labeler once fitted it."""
    model = make_bertopic(lambda texts: np.zeros((len(texts), 2)), n_keywords)
    model.fit(documents, embeddings=np.eye(len(documents), 2), y=labels)
    topic_of = {int(mine): int(theirs) for mine, theirs in zip(labels, model.topics_, strict=True) if mine >= 0}
    return topic_of, {topic: topic_keywords(model, topic) for topic in set(model.topics_)}


@pytest.mark.parametrize("case", ["ties", "one_term", "unassigned"])
def test_class_tfidf_keywords_are_bertopics(case):
    rng = np.random.default_rng(7)
    vocabulary = ["판로", "유통", "상생", "청년", "창업", "관광", "축제", "예산", "평가", "대학"]
    if case == "one_term":
        terms = [["판로"]] * 12
    else:
        # Twenty themes of equal size (ties in BERTopic's size sort), words drawn with repeats (ties in scores).
        terms = [list(rng.choice(vocabulary, size=int(rng.integers(1, 5)))) for _ in range(60)]
    labels = np.arange(len(terms)) % (20 if case == "ties" else 3)
    if case == "unassigned":
        labels[::4] = -1
    documents = [term_document(t) for t in terms]
    assert class_tfidf_keywords(documents, labels, 5) == _bertopic_words(documents, labels, 5)
