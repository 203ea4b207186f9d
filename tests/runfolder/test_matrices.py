"""The run's matrices: theme x program code (and fields), member x theme, the units behind each cell, code order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.runfolder.matrices import (
    NO_CODE,
    cell_units,
    complete_matrix,
    field_matrix,
    member_matrix,
    program_matrix,
    sort_program_codes,
)
from tests.support.sample_run import sample_run


def test_program_codes_sort_naturally_with_nl_last() -> None:
    assert sort_program_codes(["NL", "3-3-1", "1-10-1", "1-2-1", "2-3-6", "1-2-1"]) == [
        "1-2-1", "1-10-1", "2-3-6", "3-3-1", "NL"]


def test_program_matrix_counts_and_order() -> None:
    units, assignments, cards, _ = sample_run()
    matrix = program_matrix(units, assignments, cards)
    assert list(matrix.columns) == ["1-2-1", "1-10-1", "3-3-1", "NL"]
    assert list(matrix.index.get_level_values("theme_id")) == [
        "branding", "living_population", "nextlocal_roles", "performance_evaluation", "unassigned"]
    counts = matrix.droplevel("theme_label")
    assert counts.loc["branding", "3-3-1"] == 2
    assert counts.loc["branding", "NL"] == 1
    assert counts.loc["nextlocal_roles", "NL"] == 2
    assert counts.loc["performance_evaluation"].tolist() == [1, 1, 1, 1]
    assert counts.loc["unassigned", "NL"] == 1
    # Every (unit, code) pair lands in exactly one cell.
    assert int(matrix.to_numpy().sum()) == sum(len(u.program_codes) for u in units)


def test_field_matrix_rolls_codes_up_once_per_unit() -> None:
    units, assignments, cards, _ = sample_run()
    fields = field_matrix(units, assignments, cards).droplevel("theme_label")
    assert list(fields.columns) == ["1 인적교류", "2 정보교류", "3 물자교류", "NL"]
    assert fields.loc["living_population", "1 인적교류"] == 2
    assert fields.loc["performance_evaluation", "1 인적교류"] == 2
    assert fields["2 정보교류"].sum() == 0


def test_complete_matrix_counts_every_unit_at_least_once() -> None:
    units, assignments, cards, _ = sample_run()
    matrix = complete_matrix(units, assignments, cards)
    assert list(matrix.columns) == ["1-2-1", "1-10-1", "3-3-1", "NL", NO_CODE]
    uncoded = [u for u in units if not u.program_codes]
    assert uncoded, "the sample needs a unit without a program code"
    assert int(matrix[NO_CODE].sum()) == len(uncoded)
    # Each unit adds one per code it cites, or one to (코드 없음): the cells add up to that, never less.
    assert int(matrix.to_numpy().sum()) == sum(max(len(u.program_codes), 1) for u in units)
    assert (matrix.sum(axis=1) > 0).all()


def test_member_matrix_counts_each_unit_once() -> None:
    units, assignments, cards, _ = sample_run()
    members = member_matrix(units, assignments, cards)
    assert int(members.to_numpy().sum()) == len(units)
    assert list(members.columns) == list(complete_matrix(units, assignments, cards).index.get_level_values(1))


def test_cell_units_back_every_nonzero_cell() -> None:
    units, assignments, cards, _ = sample_run()
    matrix = complete_matrix(units, assignments, cards).droplevel("theme_label")
    cells = cell_units(units, assignments, cards)
    per_cell = cells.groupby(["theme_id", "program_code"]).size()
    for (theme_id, code), n in per_cell.items():
        assert matrix.loc[theme_id, code] == n
    assert len(cells) == int(matrix.to_numpy().sum())
    assert set(cells["rec_id"]) == {u.rec_id for u in units}
    assert cells.iloc[0]["theme_id"] == "branding"


def test_matrix_csv_has_the_no_code_column(sample_run_dir: Path) -> None:
    matrix = pd.read_csv(sample_run_dir / "theme_program_matrix.csv", encoding="utf-8-sig", index_col=[0, 1])
    assert matrix.columns[-1] == "(코드 없음)"
    assert int(matrix.to_numpy().sum()) == sum(max(len(u.program_codes), 1) for u in sample_run()[0])
