"""The run folder: its layout, the rule for where a run may be written, writing it and reading it back.

A run folder (docs/formats.md, "The run folder") is what a run hands to researchers. :func:`write_run`
writes every file into a staging folder that :mod:`pipeline.core.atomic` swaps in only when all files
were written, so a failure never leaves a half-written run folder behind; ``--out`` may be a new
folder, an empty one, or an earlier run folder, which is replaced as a whole (:data:`RUN_FOLDER`).
:func:`load_run` reads one back as a :class:`RunFolder`: the tables as pandas frames for the
notebooks, and the same run as typed records (units, assignments, theme cards, program names,
provenance) for ``evaluate``, ``compare``, ``browse`` and the REFI-QDA exchange.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline.core.atomic import FolderKind, replacing
from pipeline.core.cells import from_csv_text
from pipeline.core.errors import InputError
from pipeline.core.records import Assignment, ThemeCard, ThemeInfo, Unit, Unplaced
from pipeline.read.programs import program_names
from pipeline.runfolder import plots
from pipeline.runfolder.matrices import complete_matrix, program_header, short_header
from pipeline.runfolder.report import render_report, render_summary_md
from pipeline.runfolder.runinfo import run_json
from pipeline.runfolder.schema import (
    READ_COLUMNS,
    RECOMMENDATION_COLUMNS,
    RECORD,
    RUN_FILES,
    THEME_COLUMNS,
    assignment_from_cells,
    card_from_cells,
    corrections_csv,
    recommendations_frame,
    themes_frame,
    unit_from_cells,
    unplaced_csv,
    write_csv,
)
from pipeline.runfolder.workbook import write_xlsx, xlsx_sheets
from pipeline.themes.correctionfiles import load_record
from pipeline.themes.corrections import Correction

# The repository's placeholder in outputs/: it counts as empty, and a new run folder keeps it.
PLACEHOLDER = ".gitkeep"
#: ``--out`` may be a new folder, an empty one or an earlier run folder, which is replaced as a whole.
RUN_FOLDER = FolderKind("이전 결과 폴더", "run.json", RUN_FILES, PLACEHOLDER)

def prior_record(out_dir: Path) -> Path | None:
    """The coding record of ``out_dir`` when it is an earlier run folder a run may replace; None otherwise.

    A rerun into the folder reads it first, so the researcher's decisions made on it are kept.
    """
    path = Path(out_dir) / RECORD
    return path if path.is_file() and RUN_FOLDER.holds(Path(out_dir)) else None


def write_run_files(folder: Path, units: Sequence[Unit], assignments: Sequence[Assignment],
                    cards: Sequence[ThemeCard], run_info: dict, started: float,
                    model_themes: Sequence[ThemeInfo] = (), unplaced: Sequence[Unplaced] = (), *,
                    record: Sequence[Correction] = (), rerun: str | None = None) -> None:
    """Write every run-folder file into ``folder`` (an empty staging folder); ``started`` times the export.

    ``model_themes``: every theme the model knows, in its order; the report's theme select boxes offer them all.
    ``unplaced``: the lines of the round no unit took, written to ``unplaced.csv`` and listed in the report.
    ``record``: the researcher's decisions applied (``corrections.csv``; the report's download starts from
    them); ``rerun``: the command that reruns the round with a downloaded record (the report's hint).
    """
    recs = recommendations_frame(units, assignments)
    # One matrix for the CSV, the heatmap, the report and summary.md: same columns, (코드 없음) last.
    complete = complete_matrix(units, assignments, cards)
    write_csv(recs, folder / "recommendations.csv")
    write_csv(themes_frame(cards), folder / "themes.csv")
    # The CSV keeps bare codes as headers (programs read it back); the xlsx and the heatmap show names.
    write_csv(complete, folder / "theme_program_matrix.csv", index=True)
    names = program_names(run_info)
    write_xlsx(folder / "theme_program_matrix.xlsx", xlsx_sheets(units, assignments, cards, names))
    recs.to_parquet(folder / "recommendations.parquet", index=False)
    plots.heatmap(complete.rename(columns=lambda c: short_header(program_header(c, names))), folder / "heatmap.png",
                  folder / "heatmap.svg")
    (folder / "unplaced.csv").write_bytes(unplaced_csv(unplaced))
    (folder / RECORD).write_bytes(corrections_csv(record))
    (folder / "report.html").write_text(
        render_report(units, assignments, cards, complete, run_info, model_themes, unplaced, record=record,
                      rerun=rerun), encoding="utf-8", newline="\n")
    (folder / "summary.md").write_text(
        render_summary_md(units, assignments, cards, complete, run_info), encoding="utf-8", newline="\n")
    (folder / "run.json").write_text(
        run_json(run_info, units, cards, time.perf_counter() - started), encoding="utf-8", newline="\n")


def write_run(out_dir: Path, units: Sequence[Unit], assignments: Sequence[Assignment],
              cards: Sequence[ThemeCard], run_info: dict, model_themes: Sequence[ThemeInfo] = (), *,
              record: Sequence[Correction] = ()) -> Path:
    """Write a complete run folder (docs/formats.md) to ``out_dir`` atomically; return ``out_dir``.

    In: the units, their assignments, the theme cards and ``run_info`` (inputs, parameters, seed,
    versions, program names, earlier ``timings``/``counts``). ``out_dir`` may be new, empty or an
    earlier run folder, which is replaced as a whole (:data:`RUN_FOLDER`; any other folder raises
    ``InputError`` and is left untouched). The files are written into a hidden staging folder that
    replaces ``out_dir`` in one step (:mod:`pipeline.core.atomic`); on any failure a previous
    ``out_dir`` stays as it was. ``run.json`` gets ``counts.units``, ``counts.themes``,
    ``counts.unknown_codes`` and ``timings.export``. ``model_themes`` (the model's themes, in its
    order) are offered in the report's theme select boxes besides the themes that have cards.
    """
    started = time.perf_counter()
    with replacing([RUN_FOLDER.target(out_dir)]) as (staging,):
        write_run_files(staging, units, assignments, cards, run_info, started, model_themes, record=record)
    return Path(out_dir)


# --------------------------------------------------------------------------- reading


def _read_table(path: Path, **options: object) -> pd.DataFrame:
    """A CSV the pipeline wrote (UTF-8 with BOM); ``InputError`` naming the folder when missing or unreadable."""
    if not path.is_file():
        raise InputError(str(path.parent), f"결과 폴더가 아닙니다 ({path.name} 없음)")
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **options)
    except (ValueError, OSError) as exc:
        raise InputError(str(path), f"읽을 수 없습니다: {' '.join(str(exc).split())}") from exc


def _text_table(path: Path) -> pd.DataFrame:
    """Every cell of a run-folder CSV as text, empty cells as empty strings, formula guards removed."""
    frame = _read_table(path, dtype=str, keep_default_na=False)
    for column in frame.columns:
        # Only a cell starting with ' can carry a guard; testing those alone keeps a large run quick to open.
        guarded = frame[column].str.startswith("'")
        if guarded.any():
            frame.loc[guarded, column] = frame.loc[guarded, column].map(from_csv_text)
    return frame


def read_recommendations(run: str | Path) -> pd.DataFrame:
    """A run's ``recommendations.csv`` as strings (empty cells stay empty strings).

    Raises :class:`InputError` when the folder is not a run folder.
    """
    path = Path(run) / "recommendations.csv"
    frame = _text_table(path)
    missing = set(READ_COLUMNS) - set(frame.columns)
    if missing:
        raise InputError(str(path), f"열이 빠져 있습니다: {', '.join(sorted(missing))}")
    return frame


@dataclass(frozen=True)
class RunFolder:
    """A loaded run folder (:func:`load_run`).

    ``recommendations`` and ``themes`` are ``recommendations.csv`` and ``themes.csv`` with every
    cell as text, ``info`` is ``run.json`` (the run's provenance: inputs, parameters, seed,
    versions, counts, timings, program names). The same run as typed records: :attr:`units`,
    :attr:`assignments` (one per unit, same order), :attr:`theme_cards`, :attr:`program_names`.
    """

    path: Path
    recommendations: pd.DataFrame
    themes: pd.DataFrame
    info: dict

    @property
    def heatmap(self) -> Path:
        return self.path / "heatmap.png"

    @cached_property
    def matrix(self) -> pd.DataFrame:
        """``theme_program_matrix.csv``: index ``(theme_id, theme_label)``, one count column per program code."""
        return _read_table(self.path / "theme_program_matrix.csv", index_col=[0, 1])

    @property
    def program_names(self) -> dict[str, str]:
        """Program code -> name of the registry the run used."""
        return program_names(self.info)

    @cached_property
    def _rows(self) -> tuple:
        """The rows of recommendations.csv as named tuples of strings, checked to hold every column a run writes."""
        missing = [c for c in RECOMMENDATION_COLUMNS if c not in self.recommendations.columns]
        if missing:
            raise InputError(str(self.path / "recommendations.csv"),
                             f"{missing[0]} 열이 없습니다 (이전 버전이 만든 폴더인가요?)")
        # Rows as plain tuples once: iterating pandas' Arrow-backed strings costs more than building the records.
        return tuple(self.recommendations.astype(object).itertuples(index=False))

    @cached_property
    def units(self) -> tuple[Unit, ...]:
        """The run's units in file order (sub-points and notes are not in the run folder and stay empty)."""
        return tuple(unit_from_cells(r) for r in self._rows)

    @cached_property
    def assignments(self) -> tuple[Assignment, ...]:
        """The theme of every unit, in the order of :attr:`units`."""
        return tuple(assignment_from_cells(r) for r in self._rows)

    @cached_property
    def corrections(self) -> tuple[Correction, ...]:
        """The coding record ``corrections.csv`` (empty for a folder made before runs kept one), checked like any
        corrections file; rows naming no theme of the run keep their ids."""
        path = self.path / RECORD
        if not path.is_file():
            return ()
        themes = [ThemeInfo(t.theme_id, t.label, t.source) for t in self.theme_cards]
        record = load_record([path], themes, provisional=lambda theme_id: True)
        return tuple(c for f in record.files for c in f.rows)

    @cached_property
    def theme_cards(self) -> tuple[ThemeCard, ...]:
        """The theme cards of ``themes.csv``, in its order."""
        missing = [c for c in THEME_COLUMNS if c not in self.themes.columns]
        if missing:
            raise InputError(str(self.path / "themes.csv"),
                             f"{missing[0]} 열이 없습니다 (이전 버전이 만든 폴더인가요?)")
        return tuple(card_from_cells(r) for r in self.themes.astype(object).itertuples(index=False))


def load_run(run: str | Path) -> RunFolder:
    """Read a run folder written by ``advisory run`` or ``advisory assign``.

    Raises :class:`InputError` (one line naming the folder or file) when ``run.json``,
    ``recommendations.csv`` or ``themes.csv`` is missing or unreadable.
    """
    path = Path(run)
    recs = read_recommendations(path)
    themes = _text_table(path / "themes.csv")
    info_path = path / "run.json"
    if not info_path.is_file():
        raise InputError(str(path), "결과 폴더가 아닙니다 (run.json 없음)")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise InputError(str(info_path), f"읽을 수 없습니다: {' '.join(str(exc).split())}") from exc
    return RunFolder(path, recs, themes, info)
