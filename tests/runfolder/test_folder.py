"""The run folder: writing it atomically (the ``--out`` rule, failures, reruns) and reading it back as records."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import InputError
from pipeline.core.records import UNASSIGNED_ID, Assignment, Unit
from pipeline.runfolder.folder import load_run, write_run
from tests.support.sample_run import sample_run

RUN_FILES = (
    "recommendations.csv", "themes.csv", "theme_program_matrix.csv", "theme_program_matrix.xlsx",
    "recommendations.parquet", "heatmap.png", "heatmap.svg", "report.html", "summary.md", "run.json",
    "unplaced.csv", "corrections.csv",
)



def _with_missing(units: list[Unit], assignments: list[Assignment]) -> list[Assignment]:
    """The assignments in unit order, a unit without one as the unassigned row recommendations.csv gives it."""
    by_rec = {a.rec_id: a for a in assignments}
    return [by_rec.get(u.rec_id) or Assignment(u.rec_id, "", "", 0.0, UNASSIGNED_ID, needs_review=True)
            for u in units]


def test_typed_records_read_back_are_the_records_written(tmp_path: Path) -> None:
    units, assignments, cards, run_info = sample_run("a")
    run = load_run(write_run(tmp_path / "run", units, assignments, cards, run_info))
    # themes.csv holds every field but the report's member and agenda counts.
    assert run.theme_cards == tuple(replace(t, member_counts=(), agenda_counts=()) for t in cards)
    assert run.units == tuple(replace(u, subpoints=(), notes=()) for u in units)
    assert run.program_names == run_info["programs"]
    # Scores and margins go through the CSV rounded to 4 decimals.
    assert run.assignments == tuple(replace(a, theme_score=round(a.theme_score, 4),
                                            theme_margin=None if a.theme_margin is None else round(a.theme_margin, 4))
                                    for a in _with_missing(units, assignments))
    assert run.info["counts"]["units"] == len(units)


def test_the_coding_record_is_written_and_read_back(tmp_path: Path) -> None:
    """corrections.csv holds the decisions given (header only without any); a rerun into the folder finds it."""
    from pipeline.runfolder.folder import prior_record
    from pipeline.runfolder.schema import RECORD_COLUMNS as COLUMNS
    from pipeline.themes.corrections import Correction

    units, assignments, cards, run_info = sample_run("a")
    empty = write_run(tmp_path / "empty", units, assignments, cards, run_info)
    assert (empty / "corrections.csv").read_bytes() == ("\ufeff" + ",".join(COLUMNS) + "\n").encode("utf-8")
    assert load_run(empty).corrections == ()
    record = [Correction(units[1].rec_id, "branding", "브랜딩·홍보·소통", "보고서에서 수정", "report",
                         "2025-03-01T09:00:00Z", "performance_evaluation")]
    run = write_run(tmp_path / "run", units, assignments, cards, run_info, record=record)
    assert prior_record(run) == run / "corrections.csv" and prior_record(tmp_path / "nothing") is None
    got = load_run(run).corrections
    assert [(c.rec_id, c.theme_id, c.theme_label, c.source, c.time, c.previous_theme_id) for c in got] == [
        (units[1].rec_id, "branding", "브랜딩·홍보·소통", "report", "2025-03-01T09:00:00Z", "performance_evaluation")]


def test_run_json_merges_counts_and_timings(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", *sample_run())
    raw = (run_dir / "run.json").read_text(encoding="utf-8")
    info = json.loads(raw)
    assert info["counts"] == {"units": 12, "themes": 4, "unknown_codes": 1, "embedded_new": 12,
                              "embedded_cached": 0}
    assert info["timings"]["parse"] == 0.01
    assert info["timings"]["export"] > 0
    assert info["seed"] == 42
    assert "2024_자문" in raw  # ensure_ascii=False keeps Korean readable
    assert raw == json.dumps(info, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


def test_writing_twice_gives_identical_bytes(tmp_path: Path) -> None:
    for name in ("one", "two"):
        units, assignments, cards, run_info = sample_run()
        write_run(tmp_path / name, units, assignments, cards, run_info)
    for name in RUN_FILES:
        if name == "run.json":
            continue  # holds the measured export time
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_rewriting_replaces_an_earlier_run_as_a_whole(tmp_path: Path) -> None:
    units, assignments, cards, run_info = sample_run()
    out = tmp_path / "run"
    write_run(out, units, assignments, cards, run_info)
    (out / ".gitkeep").write_text("", encoding="utf-8")
    write_run(out, units[:5], [a for a in assignments if a.rec_id in {u.rec_id for u in units[:5]}], cards, run_info)
    assert len(pd.read_csv(out / "recommendations.csv", encoding="utf-8-sig")) == 5
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_FILES, ".gitkeep"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("earlier_run", [False, True])
def test_a_folder_holding_other_files_is_refused_and_left_untouched(tmp_path: Path, earlier_run: bool) -> None:
    units, assignments, cards, run_info = sample_run()
    out = tmp_path / "papers"
    if earlier_run:
        write_run(out, units, assignments, cards, run_info)
    else:
        out.mkdir()
    (out / "notes.txt").write_text("a researcher's notes", encoding="utf-8")
    (out / "compare_2023_vs_2024").mkdir()
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(InputError, match="papers") as err:
        write_run(out, units, assignments, cards, run_info)
    assert "\n" not in str(err.value)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert (out / "compare_2023_vs_2024").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["papers"]


def test_an_empty_folder_or_one_with_only_gitkeep_is_written(tmp_path: Path) -> None:
    units, assignments, cards, run_info = sample_run()
    (tmp_path / "empty").mkdir()
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / ".gitkeep").write_text("", encoding="utf-8")
    for name in ("empty", "outputs"):
        write_run(tmp_path / name, units, assignments, cards, run_info)
        assert (tmp_path / name / "run.json").is_file()
    assert (tmp_path / "outputs" / ".gitkeep").is_file()


def _fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("heatmap exploded")


def test_failure_mid_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.runfolder.plots.heatmap", _fail)
    units, assignments, cards, run_info = sample_run()
    with pytest.raises(RuntimeError, match="heatmap exploded"):
        write_run(tmp_path / "run", units, assignments, cards, run_info)
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_previous_run_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    units, assignments, cards, run_info = sample_run()
    out = write_run(tmp_path / "run", units, assignments, cards, run_info)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr("pipeline.runfolder.plots.heatmap", _fail)
    with pytest.raises(RuntimeError):
        write_run(out, units[:3], assignments[:3], cards, run_info)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_failed_swap_restores_previous_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    units, assignments, cards, run_info = sample_run()
    out = write_run(tmp_path / "run", units, assignments, cards, run_info)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def exchange(a: Path, b: Path) -> bool:
        raise OSError("disk full")

    monkeypatch.setattr("pipeline.core.atomic._exchange", exchange)
    with pytest.raises(OSError, match="disk full"):
        write_run(out, units[:3], assignments[:3], cards, run_info)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_folder_without_run_files_is_one_line_error(tmp_path: Path) -> None:
    out = write_run(tmp_path / "run", *sample_run())
    (out / "themes.csv").unlink()
    with pytest.raises(InputError, match=r"결과 폴더가 아닙니다 \(themes.csv 없음\)"):
        load_run(out)
    (out / "recommendations.csv").write_text("rec_id,text\nr1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="열이 빠져 있습니다"):
        load_run(out)


def test_run_folder_has_every_contract_file(sample_run_dir: Path) -> None:
    for name in RUN_FILES:
        assert (sample_run_dir / name).is_file(), name
        # Only the lists of unplaced lines and of decisions may hold a header alone.
        assert (sample_run_dir / name).stat().st_size > 0, name
    assert not [p for p in sample_run_dir.parent.iterdir() if p.name.startswith(".")], "temporary folder left behind"
