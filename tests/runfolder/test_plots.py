"""Charts: the heatmap and the trend panels draw Hangul with the bundled font, and an empty matrix still draws."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from matplotlib import colormaps, font_manager
from matplotlib.text import Text
from PIL import Image

from pipeline.runfolder.matrices import program_matrix
from pipeline.runfolder.plots import heatmap, korean_font_path, korean_style, share_lines
from tests.support.sample_run import sample_run


def _chart_messages(draw: Callable[[], None]) -> list[str]:
    """Warnings and log records emitted while ``draw`` runs (matplotlib reports missing glyphs either way)."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draw()
    finally:
        logger.removeHandler(handler)
    return [str(w.message) for w in caught] + records


def test_missing_glyph_detection_works(tmp_path: Path) -> None:
    """Control: a Hangul label in a Latin-only font is reported, so the check below can see tofu."""
    def draw() -> None:
        fig, ax = plt.subplots()
        ax.set_title("한글", fontfamily="DejaVu Sans")
        fig.savefig(tmp_path / "tofu.png")
        plt.close(fig)

    assert any("missing" in m for m in _chart_messages(draw))


def test_heatmap_renders_hangul_with_bundled_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    units, assignments, cards, _ = sample_run()
    matrix = program_matrix(units, assignments, cards)
    drawn: list[str] = []
    real_draw = Text.draw

    def recording_draw(self: Text, renderer: object) -> None:
        drawn.append(self.get_text())
        real_draw(self, renderer)

    monkeypatch.setattr(Text, "draw", recording_draw)
    messages = _chart_messages(lambda: heatmap(matrix, tmp_path / "h.png", tmp_path / "h.svg"))
    assert not [m for m in messages if "missing" in m or "Glyph" in m], messages
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "h.svg").read_bytes()

    with korean_style():
        resolved = font_manager.findfont(font_manager.FontProperties(family=plt.rcParams["font.family"]),
                                         fallback_to_default=False)
    assert Path(resolved) == korean_font_path()
    wide = {ch for text in drawn for ch in text if ord(ch) > 0x7F}
    assert {"브", "랜", "딩", "미", "분", "류"} <= wide  # theme labels were drawn
    cmap = TTFont(korean_font_path()).getBestCmap()
    assert sorted(ch for ch in wide if ord(ch) not in cmap) == []


def test_heatmap_of_an_empty_matrix(tmp_path: Path) -> None:
    heatmap(program_matrix([], []), tmp_path / "e.png")
    assert (tmp_path / "e.png").read_bytes().startswith(b"\x89PNG")


def test_every_theme_is_drawn_even_when_two_share_every_value(tmp_path: Path) -> None:
    shares = pd.DataFrame({"성과평가·지표": [0.25, 0.375, 0.375], "판로·유통": [0.0, 0.375, 0.375],
                           "생활인구·체류": [0.167, 0.0, 0.0], "미분류": [0.167, 0.0, 0.0]},
                          index=["2024 자문", "2025 자문", "2026 자문"])
    share_lines(shares, [True, True, False], tmp_path / "trends.png")
    pixels = np.asarray(Image.open(tmp_path / "trends.png").convert("RGB")).reshape(-1, 3).astype(int)
    for colour in colormaps["tab10"].colors[:4]:
        rgb = np.round(np.asarray(colour) * 255).astype(int)
        assert (np.abs(pixels - rgb).sum(axis=1) < 30).sum() > 200, colour
