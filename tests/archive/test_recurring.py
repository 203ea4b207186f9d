"""A concern raised again in a later round is linked to its earlier candidates (pipeline.archive.recurring)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.archive.recurring import link_recurring

SAFETY_2024 = "안전;보험;가입;사고;대피"
SAFETY_2025 = "안전;보험;사고;교육;체험"
# Shares only two keywords with 2024 (안전, 사고) but three with 2025: linked through 2025.
SAFETY_2026 = "사고;교육;체험;안전;응급"


def candidates(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["round_name", "theme_id", "keywords"])


def test_a_concern_raised_again_names_the_round_it_first_appeared_in() -> None:
    linked = link_recurring(candidates(
        ("2024", "new_theme_01", SAFETY_2024),
        ("2024", "new_theme_02", "환경;배출량;단체;기준"),
        ("2025", "new_theme_01", SAFETY_2025),
        ("2026", "new_theme_01", SAFETY_2026),
        ("2026", "new_theme_02", "상표;출원;등록;특허"),
    ))
    assert linked["first_round"].tolist() == ["2024", "2024", "2024", "2024", "2026"]
    # Only direct links are listed: 2026 shares three keywords with 2025, two with 2024.
    assert linked["earlier_candidates"].tolist() == ["", "", "new_theme_01@2024", "new_theme_01@2025", ""]


def test_candidates_of_one_round_are_never_one_concern() -> None:
    # The finder kept them apart on purpose, whatever words they share.
    linked = link_recurring(candidates(("2025", "new_theme_01", SAFETY_2024), ("2025", "new_theme_02", SAFETY_2024)))
    assert linked["first_round"].tolist() == ["2025", "2025"]
    assert linked["earlier_candidates"].tolist() == ["", ""]


def test_two_shared_keywords_are_not_enough_and_the_threshold_is_a_parameter() -> None:
    rows = candidates(("2024", "new_theme_01", "안전;보험;가입"), ("2025", "new_theme_01", "안전;보험;환경"))
    assert link_recurring(rows)["first_round"].tolist() == ["2024", "2025"]
    assert link_recurring(rows, min_shared=2)["first_round"].tolist() == ["2024", "2024"]
    with pytest.raises(ValueError, match="min_shared"):
        link_recurring(rows, min_shared=0)


def test_an_archive_without_candidates_gets_the_columns_and_no_rows() -> None:
    linked = link_recurring(candidates())
    assert linked.empty and {"first_round", "earlier_candidates"} <= set(linked.columns)
    # A candidate without keywords (none stored) is linked to nothing.
    lone = link_recurring(candidates(("2024", "new_theme_01", SAFETY_2024)).assign(keywords=[None]))
    assert lone["first_round"].tolist() == ["2024"]
