"""trends.png: one panel per theme, so themes with the same shares (lines that lay on top of each other in one
plot) are each drawn, in their own colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from PIL import Image

from pipeline.runfolder.plots import share_lines


def test_every_theme_is_drawn_even_when_two_share_every_value(tmp_path: Path) -> None:
    shares = pd.DataFrame({"성과평가·지표": [0.25, 0.375, 0.375], "판로·유통": [0.0, 0.375, 0.375],
                           "생활인구·체류": [0.167, 0.0, 0.0], "미분류": [0.167, 0.0, 0.0]},
                          index=["2024 자문", "2025 자문", "2026 자문"])
    share_lines(shares, [True, True, False], tmp_path / "trends.png")
    pixels = np.asarray(Image.open(tmp_path / "trends.png").convert("RGB")).reshape(-1, 3).astype(int)
    for colour in colormaps["tab10"].colors[:4]:
        rgb = np.round(np.asarray(colour) * 255).astype(int)
        assert (np.abs(pixels - rgb).sum(axis=1) < 30).sum() > 200, colour
