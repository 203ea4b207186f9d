"""The codebook: the bundled one has the contract's themes, a codebook round-trips through a dict, a bad or missing
file is one line naming it."""

from __future__ import annotations

import pytest

from pipeline.core.errors import InputError
from pipeline.themes.codebook import DEFAULT_CODEBOOK, Codebook, load_codebook

CONTRACT_IDS = {
    "branding", "living_population", "nextlocal_roles", "sales_channels", "performance_evaluation",
    "governance_finance", "startup_support", "demand_targeting", "university_research", "new_exchange_programs",
}


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
    ("themes: [", "올바른 UTF-8 YAML이 아닙니다"),
    ("version: 1\n", "비어 있지 않은 'themes:' 목록"),
    ("themes:\n  - {id: Bad-Id, label: x, description: y, keywords: [a]}\n", "영문 소문자"),
    ("themes:\n  - {id: a, label: x, description: y, keywords: [k]}\n"
     "  - {id: a, label: x, description: y, keywords: [k]}\n", "id가 중복됩니다"),
    ("themes:\n  - {id: a, description: y, keywords: [k]}\n", "'label'은(는) 비어 있지 않은 문자열이어야 합니다"),
    ("themes:\n  - {id: a, label: x, description: y, keywords: k}\n", "비어 있지 않은 문자열의 목록"),
    ("themes:\n  - {id: a, label: x, description: y, keywords: []}\n", "비어 있으면 안 됩니다"),
])
def test_bad_codebook_is_one_line_error_naming_the_file(tmp_path, text, reason):
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_codebook(path)
    message = str(err.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_missing_codebook_names_the_file(tmp_path):
    with pytest.raises(InputError, match="코드북을 읽을 수 없습니다"):
        load_codebook(tmp_path / "nope.yaml")
