"""Compare two run folders: which themes and programs gained or lost attention between rounds.

Both runs are read from their ``recommendations.csv`` only, so any two run folders
compare, including runs made with different codebooks or models. Themes are matched by
label (ids of discovered themes are not stable across runs); shares are fractions of
all units of a run, unassigned units included, so a round's size does not matter.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL
from pipeline.read.programs import program_code_key
from pipeline.runfolder.folder import read_recommendations
from pipeline.runfolder.plots import share_change_chart
from pipeline.runfolder.schema import write_csv

DEFAULT_TOLERANCE = 0.02
COMPARE_COLUMNS: tuple[str, ...] = ("units_a", "share_a", "units_b", "share_b", "share_change", "status")


def _theme_counts(frame: pd.DataFrame) -> pd.Series:
    """Units per theme label; unassigned units (or ones without a label) count as 미분류."""
    unassigned = (frame["theme_source"] == UNASSIGNED_ID) | (frame["theme_label"] == "")
    labels = frame["theme_label"].where(~unassigned, UNASSIGNED_LABEL)
    return labels.value_counts(sort=False)


def _program_counts(frame: pd.DataFrame) -> pd.Series:
    """Units citing each program code (a unit citing two codes counts for both)."""
    codes = frame["program_codes"].str.split(";").explode()
    return codes[codes != ""].value_counts(sort=False)


def _status(units_a: int, units_b: int, change: float, tolerance: float) -> str:
    if units_a == 0:
        return "new"
    if units_b == 0:
        return "vanished"
    if change > tolerance:
        return "grew"
    if change < -tolerance:
        return "shrank"
    return "stable"


def _compare(counts_a: pd.Series, counts_b: pd.Series, total_a: int, total_b: int, key: str,
             tolerance: float) -> pd.DataFrame:
    """Side-by-side counts and shares of two runs with the change in share and a status per key."""
    keys = list(dict.fromkeys([*counts_a.index, *counts_b.index]))
    rows = []
    for k in keys:
        units_a, units_b = int(counts_a.get(k, 0)), int(counts_b.get(k, 0))
        share_a = units_a / total_a if total_a else 0.0
        share_b = units_b / total_b if total_b else 0.0
        change = share_b - share_a
        rows.append({key: k, "units_a": units_a, "share_a": round(share_a, 4), "units_b": units_b,
                     "share_b": round(share_b, 4), "share_change": round(change, 4),
                     "status": _status(units_a, units_b, change, tolerance)})
    return pd.DataFrame(rows, columns=[key, *COMPARE_COLUMNS])


def compare_runs(run_a: Path, run_b: Path, tolerance: float = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """Theme attention in run A vs run B, one row per theme label found in either run.

    In: two run folders (each with ``recommendations.csv``); ``tolerance`` is the change in
    share (fraction) within which a theme counts as ``stable``. Out columns:
    ``theme_label, units_a, share_a, units_b, share_b, share_change, status`` with status
    ``new``/``vanished``/``grew``/``shrank``/``stable``; sorted by change (largest gain first),
    then label. Raises :class:`~pipeline.core.errors.InputError` if a folder is not a run folder.
    """
    a, b = read_recommendations(run_a), read_recommendations(run_b)
    table = _compare(_theme_counts(a), _theme_counts(b), len(a), len(b), "theme_label", tolerance)
    return table.sort_values(["share_change", "theme_label"], ascending=[False, True],
                             kind="stable", ignore_index=True)


def compare_programs(run_a: Path, run_b: Path, tolerance: float = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """Program attention in run A vs run B: share of units citing each program code.

    Same columns as :func:`compare_runs` with ``program_code`` instead of ``theme_label``;
    rows in natural code order, ``NL`` last. Shares need not sum to 1 (a unit may cite
    several codes, or none).
    """
    a, b = read_recommendations(run_a), read_recommendations(run_b)
    table = _compare(_program_counts(a), _program_counts(b), len(a), len(b), "program_code", tolerance)
    order = sorted(table["program_code"], key=program_code_key)
    return table.set_index("program_code").loc[order].reset_index()


def write_comparison(run_a: Path, run_b: Path, out_dir: Path, tolerance: float = DEFAULT_TOLERANCE) -> Path:
    """Write ``compare_themes.csv``, ``compare_programs.csv`` (UTF-8 with BOM) and ``compare.png`` to ``out_dir``.

    In: two run folders (A = earlier/baseline, B = later) and the output folder (created
    if missing). Out: ``out_dir``. The chart shows the change in share per theme and per
    program code in percentage points.
    """
    themes = compare_runs(run_a, run_b, tolerance)
    programs = compare_programs(run_a, run_b, tolerance)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(themes, out_dir / "compare_themes.csv")
    write_csv(programs, out_dir / "compare_programs.csv")
    share_change_chart({
        f"주제별 비중 변화 ({Path(run_a).name} → {Path(run_b).name})":
            themes.set_index("theme_label")["share_change"],
        "사업 코드별 언급 비중 변화": programs.set_index("program_code")["share_change"],
    }, out_dir / "compare.png")
    return out_dir
