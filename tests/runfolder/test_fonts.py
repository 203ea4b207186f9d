"""The report's embedded font: only the page's characters, ｢｣ drawn, renamed as the OFL asks, same bytes each time."""

from __future__ import annotations

import io

from fontTools.ttLib import TTFont

from pipeline.runfolder.fonts import FAMILY, subset_font

PAGE = "자문위원 권고 ｢지방자치법｣ 개정"


def _font(data: bytes) -> TTFont:
    return TTFont(io.BytesIO(data))


def test_subset_holds_the_page_characters_and_no_others() -> None:
    font = _font(subset_font(PAGE))
    cmap = font.getBestCmap()
    assert font.flavor == "woff"
    assert all(ord(c) in cmap for c in PAGE)
    assert ord("분") not in cmap  # a syllable the page does not use
    assert all(c in cmap for c in range(0x20, 0x7F))
    assert len(font.getGlyphOrder()) < 200


def test_halfwidth_corner_brackets_use_nanumgothic_corner_brackets() -> None:
    cmap = _font(subset_font(PAGE)).getBestCmap()
    assert cmap[ord("｢")] == cmap[ord("「")]
    assert cmap[ord("｣")] == cmap[ord("」")]


def test_subset_is_renamed_and_keeps_the_licence() -> None:
    names = _font(subset_font(PAGE))["name"]
    assert names.getDebugName(1) == FAMILY
    assert "Nanum" not in (names.getDebugName(4) or "")
    assert "NHN Corporation" in names.getDebugName(0)
    assert "SIL Open Font License, Version 1.1" in names.getDebugName(13)


def test_same_characters_give_the_same_bytes() -> None:
    assert subset_font(PAGE) == subset_font(reversed(PAGE + PAGE))
