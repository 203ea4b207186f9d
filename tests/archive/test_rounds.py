"""Coding rounds into the archive: adding a round leaves the others' rows as they were and codes it as assign
does, the model pin, names refused unless replaced, corrections applied, recoding, a reviewed run folder
stored as it is. The archive is conftest.py's (built once for the package)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.archive.rounds import add_round
from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.core.options import RunOptions
from pipeline.core.paths import DEFAULT_ROUND
from tests.support.archive_rows import ROUND_2025, round_rows, sql


def test_both_rounds_are_in_units(built: dict) -> None:
    got = sql(built["archive"], "select round_name, count(*) from units group by 1 order by 1")
    assert got == [("2024 자문", 52), ("2025 자문", 19)]
    assert sql(built["archive"], "select round_name, n_units, position from rounds order by position") == [
        ("2024 자문", 52, 1), ("2025 자문", 19, 2)]
    # the 2025 round was coded with the pinned model, found without --model
    hashes = sql(built["archive"], "select distinct model_hash from rounds")
    assert hashes == sql(built["archive"], "select value from meta where key = 'model_hash'")


def test_adding_2025_leaves_2024_rows_byte_identical(built: dict) -> None:
    assert round_rows(built["archive"], "2024 자문") == built["before_2024"]


def test_units_match_assign_on_the_round_alone(built: dict, tmp_path: Path) -> None:
    assert main(["assign", str(ROUND_2025), "--model", str(built["model"]), "--out", str(tmp_path / "a"),
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    run = pd.read_csv(tmp_path / "a" / "recommendations.csv", encoding="utf-8-sig", keep_default_na=False)
    stored = sql(built["archive"], "select rec_id, theme_id, theme_source, theme_runner_up, theme_margin, "
                                    "needs_review from units where round_name = '2025 자문' order by seq")
    run["needs_review"] = run["needs_review"].astype(bool)
    assert stored == list(run[["rec_id", "theme_id", "theme_source", "theme_runner_up", "theme_margin",
                               "needs_review"]].itertuples(index=False, name=None))
    # the model's own assignments keep the same confidence (no corrections in this round)
    assert sql(built["archive"], "select rec_id, theme_runner_up, theme_margin, needs_review from assignments "
                                  "where round_name = '2025 자문' order by rec_id") == sorted(
        (r, u, m, n) for r, _t, _s, u, m, n in stored)


def test_name_already_present_is_refused_unless_replace(built: dict, copy: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    args = ["archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "2025 자문",
            "--cache-dir", str(built["cache"]), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"오류: {copy}: '2025 자문' 회차가 이미 보관소에 있습니다; 바꾸려면 --replace, 아니면 다른 " \
                  "--round-name 을 주세요"
    assert main([*args, "--replace"]) == 0
    assert round_rows(copy, "2024 자문") == built["before_2024"]
    # the replaced round keeps its place and, given no --date, its date
    assert sql(copy, "select round_name, position, round_date from rounds order by position") == [
        ("2024 자문", 1, dt.date(2024, 6, 1)), ("2025 자문", 2, dt.date(2025, 6, 1))]


def test_first_round_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="보관소에 아직 모델이 없습니다: 첫 회차에는 --model DIR"):
        add_round(tmp_path / "new.duckdb", [ROUND_2025], "2025 자문")
    assert not (tmp_path / "new.duckdb").exists()


def test_changed_pinned_model_is_refused(built: dict, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(built["model"], model)
    archive = tmp_path / "a.duckdb"
    add_round(archive, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), model_dir=model)
    (model / "model.json").write_text((model / "model.json").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="고정된 모델 폴더가 고정한 뒤에 바뀌었습니다"):
        add_round(archive, [ROUND_2025], "again", RunOptions(cache_dir=built["cache"]))
    # named explicitly, the changed folder is used and recorded for that round only
    add_round(archive, [ROUND_2025], "again", RunOptions(cache_dir=built["cache"]), model_dir=model)
    hashes = sql(archive, "select round_name, model_hash from rounds order by position")
    assert hashes[0][1] != hashes[1][1]
    assert sql(archive, "select value from meta where key = 'model_hash'") == [(hashes[0][1],)]


def test_corrections_are_stored_and_applied(built: dict, copy: Path, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    rec_id, model_theme = sql(copy, "select rec_id, theme_id from units where round_name = '2025 자문' "
                                     "and theme_id <> 'branding' order by seq limit 1")[0]
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(f"rec_id,theme_id,note\n{rec_id},branding,홍보 얘기\nold-2023,sales_channels,\n",
                           encoding="utf-8-sig")
    add_round(copy, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), corrections=corrections, replace=True)
    assert sql(copy, "select theme_id, theme_source, theme_score from units where rec_id = ?", [rec_id]) == [
        ("branding", "researcher", 1.0)]
    assert sql(copy, "select theme_id, theme_source <> 'researcher' from assignments where rec_id = ?",
                [rec_id]) == [(model_theme, True)]
    assert sql(copy, "select rec_id, theme_id, note, line from corrections") == [(rec_id, "branding", "홍보 얘기", 2)]
    assert sql(copy, "select n_corrected from rounds where round_name = '2025 자문'") == [(1,)]
    assert "수정 파일의 rec_id 1건은 이 회차에 없어 건너뜁니다: old-2023" in caplog.text
    bad = tmp_path / "bad.csv"
    bad.write_text(f"rec_id,theme_id\n{rec_id},tourism\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv 2행: 'tourism'은\(는\) 코드북에도 모델에도 없는 주제"):
        add_round(copy, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), corrections=bad, replace=True)
    # recoding keeps the researcher's decision and leaves the other round alone
    assert main(["archive", "recode", "--archive", str(copy), "--round", "2025 자문", "--model", str(built["model"]),
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert sql(copy, "select theme_id, theme_source from units where rec_id = ?", [rec_id]) == [
        ("branding", "researcher")]
    assert round_rows(copy, "2024 자문") == built["before_2024"]


def test_recode_with_the_same_model_changes_no_theme(built: dict, copy: Path) -> None:
    query = "select * exclude (added_at, recoded_at) from rounds where round_name = '2025 자문'"
    units = "select * from units where round_name = '2025 자문' order by seq"
    before = (sql(copy, units), sql(copy, "select * from themes order by all"))
    assert main(["archive", "recode", "--archive", str(copy), "--round", "2025 자문", "--model", str(built["model"]),
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert (sql(copy, units), sql(copy, "select * from themes order by all")) == before
    assert sql(copy, query)[0][:5] == sql(built["archive"], query)[0][:5]
    assert sql(copy, "select recoded_at is not null from rounds order by position") == [(False,), (True,)]


def test_add_run_stores_the_reviewed_run_folder_as_it_is(built: dict, copy: Path, tmp_path: Path) -> None:
    """A reviewed run folder (two decisions, one to 미분류 and one to a researcher theme) goes in unchanged:
    its themes, scores, review flags, theme summaries and decisions, not a new assignment."""
    run = tmp_path / "reviewed"
    shutil.copytree(built["root"] / "run", run)
    recs = pd.read_csv(run / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    (run / "corrections.csv").write_text(
        "rec_id,theme_id,theme_label,note,source,time,previous_theme_id\n"
        f"{recs.loc[0, 'rec_id']},unassigned,미분류,맞는 주제 없음,report,2025-03-01T09:00:00Z,{recs.loc[0, 'theme_id']}\n"
        f"{recs.loc[1, 'rec_id']},,기후·환경,,report,,{recs.loc[1, 'theme_id']}\n", encoding="utf-8-sig")
    assert main(["run", str(DEFAULT_ROUND), "--out", str(run), "--save-model", str(tmp_path / "model"),
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert main(["archive", "add", "--run", str(run), "--archive", str(copy), "--round-name", "2024 검토",
                 "--quiet"]) == 0
    recs = pd.read_csv(run / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    columns = ["rec_id", "theme_id", "theme_label", "theme_source", "theme_score", "theme_runner_up", "theme_margin",
               "needs_review", "program_codes", "line_start"]
    stored = pd.DataFrame(sql(copy, f"select {', '.join(columns)} from units where round_name = '2024 검토' "
                                     "order by seq"), columns=columns)
    for column in ("theme_score", "theme_margin"):
        assert stored[column].fillna(-1).tolist() == recs[column].replace("", "-1").astype(float).tolist()
    stored["needs_review"] = stored["needs_review"].astype(int).astype(str)
    stored["line_start"] = stored["line_start"].astype(str)
    text = [c for c in columns if c not in ("theme_score", "theme_margin")]
    assert stored[text].fillna("").values.tolist() == recs[text].values.tolist()
    themes = pd.read_csv(run / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert [tuple(map(str, r)) for r in sql(copy, "select * exclude (round_name) from themes where round_name = "
                                                   "'2024 검토'")] == [tuple(r) for r in themes.values.tolist()]
    assert sorted(sql(copy, "select rec_id, theme_id, source from corrections where round_name = '2024 검토'")) == \
        sorted([(recs.loc[0, "rec_id"], "unassigned", "report"), (recs.loc[1, "rec_id"], recs.loc[1, "theme_id"], "report")])
    assert recs.loc[1, "theme_label"] == "기후·환경" and recs.loc[1, "theme_source"] == "researcher"
    # The model's own choice is kept only where no researcher decided; the model the run saved is recorded.
    assert sql(copy, "select count(*) from assignments where round_name = '2024 검토'") == [(len(recs) - 2,)]
    assert sql(copy, "select model_path, n_corrected from rounds where round_name = '2024 검토'") == [
        (str(tmp_path / "model"), 2)]
    assert round_rows(copy, "2024 자문") == built["before_2024"]


def test_unassigned_in_a_corrections_file_works_in_archive_add(built: dict, copy: Path, tmp_path: Path) -> None:
    rec_id = sql(copy, "select rec_id from units where round_name = '2025 자문' order by seq limit 1")[0][0]
    corrections = tmp_path / "fix.csv"
    corrections.write_text(f"rec_id,theme_id\n{rec_id},미분류\n", encoding="utf-8")
    assert main(["archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "2025 자문", "--replace",
                 "--corrections", str(corrections), "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert sql(copy, "select theme_id, theme_label, theme_source from units where rec_id = ?", [rec_id]) == [
        ("unassigned", "미분류", "researcher")]


