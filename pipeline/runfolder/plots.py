"""Charts with Korean labels, rendered with the NanumGothic font bundled in koreanize-matplotlib.

The font is registered by file path so the output does not depend on which fonts the
machine happens to have (a missing system font renders Hangul as tofu boxes).
Charts are written with fixed metadata so the same data gives the same bytes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.runfolder.matrices import short_header

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Dates and the generator string are the only run-varying parts of matplotlib's output.
_PNG_METADATA = {"Software": None}
_SVG_METADATA = {"Date": None, "Creator": None}


def korean_font_path() -> Path:
    """Return the path of NanumGothic.ttf shipped inside the koreanize-matplotlib package.

    The package is located without importing it: importing it would change global
    matplotlib settings as a side effect.
    """
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("koreanize-matplotlib is not installed; it provides the Korean font for charts")
    path = Path(spec.origin).parent / "fonts" / "NanumGothic.ttf"
    if not path.is_file():
        raise RuntimeError(f"{path}: Korean font missing from the koreanize-matplotlib package")
    return path


def _figure(**subplots: Any) -> tuple[Figure, Any]:
    """A new figure and its axes (``Figure.subplots`` arguments), matplotlib imported on the first chart.

    Figures are made without pyplot: they are only ever saved to files, so no backend or window
    is involved and pyplot's import (a third of a warm run's export) is not paid; a command that
    draws no chart (``advisory parse``, ``evaluate``) imports no matplotlib at all.
    """
    from matplotlib.figure import Figure

    figsize = subplots.pop("figsize")
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(**subplots)


def _font_family() -> str:
    """Register the bundled font with matplotlib (idempotent) and return its family name."""
    from matplotlib import font_manager

    path = korean_font_path()
    if not any(Path(f.fname) == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@contextmanager
def korean_style() -> Iterator[None]:
    """Matplotlib settings for Korean charts with stable bytes, scoped to the ``with`` block."""
    import matplotlib

    with matplotlib.rc_context({
        "font.family": [_font_family()],
        "axes.unicode_minus": False,  # NanumGothic has no U+2212 minus glyph
        "svg.hashsalt": "advisory-themes",
        "svg.fonttype": "path",  # glyphs as paths: the SVG shows Hangul without the font installed
    }):
        yield


def _save(fig: Figure, path_png: Path | str, path_svg: Path | str | None) -> None:
    fig.savefig(path_png, dpi=150, bbox_inches="tight", metadata=_PNG_METADATA)
    if path_svg is not None:
        fig.savefig(path_svg, bbox_inches="tight", metadata=_SVG_METADATA)


# The most characters of a theme label, round name or other text drawn as a tick label or legend entry.
# The figures are saved with a tight bounding box, which grows with the text: one 40,000-character round
# name made a canvas of gigabytes.
MAX_LABEL = 48


def _label(value: object) -> str:
    return short_header(str(value), MAX_LABEL)


def _row_labels(matrix: pd.DataFrame) -> list[str]:
    """Theme labels for the y axis: the last index level when rows are (theme_id, theme_label)."""
    index = matrix.index
    values = index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index
    return [_label(v) for v in values]


def heatmap(matrix: pd.DataFrame, path_png: Path | str, path_svg: Path | str | None = None,
            title: str = "주제 × 사업 권고 수", xlabel: str = "사업 코드", ylabel: str = "") -> None:
    """Draw a theme × program-code count matrix as an annotated heatmap.

    ``matrix``: rows are themes (a ``(theme_id, theme_label)`` MultiIndex or plain labels),
    columns are program codes, cells are unit counts. Writes a PNG to ``path_png`` and,
    when given, an SVG to ``path_svg``. Sized so 10-20 themes × 15-30 codes stay readable.
    ``xlabel``/``ylabel`` name the axes (another count matrix, e.g. a confusion matrix, reuses it).
    """
    rows = _row_labels(matrix)
    cols = [_label(c) for c in matrix.columns]
    values = matrix.to_numpy(dtype=float) if matrix.size else np.zeros((len(rows), len(cols)))
    from matplotlib.ticker import MaxNLocator

    with korean_style():
        width = min(4.0 + 0.55 * max(len(cols), 4), 30.0)
        height = min(1.8 + 0.42 * max(len(rows), 3), 20.0)
        fig, ax = _figure(figsize=(width, height))
        if values.size == 0:
            ax.text(0.5, 0.5, "표시할 권고가 없습니다", ha="center", va="center", fontsize=12)
            ax.set_axis_off()
        else:
            vmax = max(float(values.max()), 1.0)
            image = ax.imshow(values, cmap="Blues", aspect="auto", vmin=0, vmax=vmax)
            ax.set_xticks(range(len(cols)), labels=cols, rotation=60, ha="right", rotation_mode="anchor",
                          fontsize=9)
            ax.set_yticks(range(len(rows)), labels=rows, fontsize=10)
            # Thin white grid between cells so neighbouring equal counts stay distinguishable.
            ax.set_xticks(np.arange(-0.5, len(cols)), minor=True)
            ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
            ax.grid(which="minor", color="white", linewidth=1.2)
            ax.tick_params(which="minor", length=0)
            for r in range(len(rows)):
                for c in range(len(cols)):
                    count = values[r, c]
                    if count:
                        dark = count > 0.55 * vmax
                        ax.text(c, r, f"{count:g}", ha="center", va="center", fontsize=8,
                                color="white" if dark else "#1a1a1a")
            fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="권고 수", ticks=MaxNLocator(integer=True))
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=12, loc="left")
        _save(fig, path_png, path_svg)


def share_change_chart(panels: Mapping[str, pd.Series], path_png: Path | str,
                       path_svg: Path | str | None = None) -> None:
    """Horizontal bar charts of share changes in percentage points, one panel per entry of ``panels``.

    ``panels``: panel title → Series with labels (theme labels, program codes) as index
    and the change in share as a fraction (0.05 = +5%p) as values; bars read top-down
    in the Series' order. Writes a PNG (and an SVG when ``path_svg`` is given).
    """
    with korean_style():
        heights = [max(len(series), 2) for series in panels.values()] or [2]
        fig, axes = _figure(nrows=len(heights), ncols=1, squeeze=False, gridspec_kw={"height_ratios": heights},
                             figsize=(8.0, min(1.2 * len(heights) + 0.36 * sum(heights), 30.0)))
        for ax, (title, changes) in zip(axes[:, 0], panels.items(), strict=False):
            _change_bars(ax, changes)
            ax.set_title(title, fontsize=12, loc="left")
        if not panels:
            axes[0, 0].set_axis_off()
        fig.tight_layout()
        _save(fig, path_png, path_svg)


def _change_bars(ax: Axes, changes: pd.Series) -> None:
    """One panel of :func:`share_change_chart`: blue bars for gains, red for losses, labelled in %p."""
    if changes.empty:
        ax.text(0.5, 0.5, "비교할 항목이 없습니다", ha="center", va="center", fontsize=11)
        ax.set_axis_off()
        return
    points = changes.astype(float).to_numpy() * 100
    colors = ["#2b6cb0" if v > 0 else "#c53030" if v < 0 else "#a0aec0" for v in points]
    ax.barh(range(len(points)), points, color=colors)
    ax.set_yticks(range(len(points)), labels=[_label(i) for i in changes.index], fontsize=10)
    ax.invert_yaxis()  # first label on top, as in the table
    ax.axvline(0, color="#4a5568", linewidth=0.8)
    for y, v in enumerate(points):
        ax.text(v, y, f" {v:+.1f}%p ", va="center", ha="left" if v >= 0 else "right", fontsize=8)
    span = max(float(np.abs(points).max()), 1.0) * 1.4
    ax.set_xlim(-span, span)
    ax.set_xlabel("비중 변화 (%p)")


def share_lines(shares: pd.DataFrame, small: Sequence[bool], path_png: Path | str,
                title: str = "회차별 주제 비중") -> None:
    """Theme shares over rounds as small multiples: one panel per column of ``shares``.

    ``shares``: index = round names in order, columns = theme labels, values = share of the
    round's units (0.25 = 25%). ``small``: per round, whether it has too few units for a
    reliable share; those rounds are shaded. Each panel draws its theme in colour over the other
    themes in light grey, on one shared scale, so two themes with the same shares stay apart (on one
    plot their lines lay exactly on top of each other) and each line is named by its panel. Writes a PNG.
    """
    n_rounds, n_themes = len(shares.index), max(len(shares.columns), 1)
    ncols = min(4, n_themes)
    nrows = -(-n_themes // ncols)
    from matplotlib import colormaps

    with korean_style():
        fig, axes = _figure(nrows=nrows, ncols=ncols, squeeze=False, sharex=True, sharey=True,
                            figsize=(min(3.2 * ncols + 0.12 * n_rounds, 18.0), 1.2 + 2.3 * nrows))
        colors = colormaps["tab10"].colors
        values = shares.to_numpy(dtype=float) * 100
        x = np.arange(n_rounds)
        flagged = np.flatnonzero(np.asarray(small, dtype=bool))
        for k, ax in enumerate(axes.ravel()):
            if k >= len(shares.columns):
                ax.set_axis_off()
                continue
            for j in range(values.shape[1]):
                if j != k:
                    ax.plot(x, values[:, j], color="#cbd5e0", linewidth=0.8)
            ax.plot(x, values[:, k], color=colors[k % len(colors)], linewidth=2.0,
                    marker="o" if n_rounds <= 30 else None, markersize=4)
            for r in flagged:
                ax.axvspan(r - 0.5, r + 0.5, color="#fbd38d", alpha=0.35, linewidth=0)
            ax.set_title(_label(shares.columns[k]), fontsize=10, loc="left")
            ax.grid(axis="y", color="#edf2f7", linewidth=0.8)
        step = max(1, int(np.ceil(n_rounds / 12)))  # at most ~12 readable round names under a panel
        ticks = list(range(0, n_rounds, step))
        for column in range(ncols):
            # Round names under the lowest panel of each column (a column may end a row early).
            ax = axes[(len(shares.columns) - 1 - column) // ncols if column < len(shares.columns) else 0, column]
            ax.tick_params(labelbottom=True)
            ax.set_xticks(ticks, labels=[_label(shares.index[i]) for i in ticks], rotation=45, ha="right",
                          rotation_mode="anchor", fontsize=8)
        axes[0, 0].set_xlim(-0.5, max(n_rounds - 0.5, 0.5))
        for ax in axes[:, 0]:
            ax.set_ylabel("권고 중 비중 (%)", fontsize=9)
        note = " · 음영: 권고 20건 미만 회차 (비중 해석 주의)" if len(flagged) else ""
        fig.suptitle(title + note, fontsize=12, x=0.01, ha="left")
        fig.tight_layout()
        _save(fig, path_png, None)
