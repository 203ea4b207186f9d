"""A researcher's cycle on one round, every decision kept: report edits → QDA recode → rerun → report edit → rerun.

The bundled round is run with the tfidf embedder (the embedder does not matter here) through the command
line. In headless Chromium the report's select boxes move one unit to another theme and one to a theme
named with "새 주제…"; the edits survive a reload (``localStorage``), closing asks first while they are
not downloaded, and the download is the whole record. The run is exported to REFI-QDA, one unit is
recoded and one coded with a code made in the tool, and the project is imported. The rerun is the
command the report shows, with both files; its report shows the four decisions, one more edit is
downloaded (the whole record again) and the last rerun has all five in effect and in the run folder's
``corrections.csv``.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.runfolder.schema import RECORD_COLUMNS as COLUMNS
from pipeline.themes.corrections import researcher_theme_id
from tests.support.browser import DevTools, download, fontconfig, open_page
from tests.support.qda_tools import Project

FESTIVAL, CLIMATE = "지역 축제", "기후·환경"


def _recs(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _record(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert not rows or list(rows[0]) == list(COLUMNS)
    return rows


def _select(page: DevTools, rec_id: str) -> str:
    return f"document.querySelector('#unit-list li[data-rec-id={json.dumps(rec_id)}] select')"


def _move(page: DevTools, rec_id: str, value: str) -> None:
    page.js(f"(s => {{ s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change', {{bubbles: true}})); }})"
            f"({_select(page, rec_id)})")


def _name_new_theme(page: DevTools, rec_id: str, label: str) -> None:
    _move(page, rec_id, "__new__")
    li = f"document.querySelector('#unit-list li[data-rec-id={json.dumps(rec_id)}]')"
    assert page.js(f"{li}.querySelector('.new-theme').hidden") is False
    page.js(f"{li}.querySelector('.new-theme input').value = {json.dumps(label)}")
    page.js(f"{li}.querySelector('.new-theme-add').click()")


def _closing_is_held(page: DevTools) -> bool:
    return bool(page.js("(() => { const e = new Event('beforeunload', {cancelable: true}); "
                        "window.dispatchEvent(e); return e.defaultPrevented; })()"))


def _rerun(page: DevTools, records: list[Path]) -> None:
    """Run the command the report shows, with the downloaded files in place of ``corrections.csv``."""
    words = shlex.split(page.js("document.getElementById('rerun-command').textContent"))
    assert words[:2] == ["advisory", "run"] and words[-2:] == ["--corrections", "corrections.csv"]
    files = [w for path in records for w in ("--corrections", str(path))]
    assert main([*words[1:-2], *files, "--quiet"]) == 0


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("cycle")
    run = tmp / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISORY_CACHE_DIR", str(tmp / "cache"))
        assert main(["run", "--out", str(run), "--embedder", "tfidf", "--quiet"]) == 0
        yield {"tmp": tmp, "run": run, "first": _recs(run)}


@pytest.fixture(scope="module")
def first_page(cycle: dict) -> Iterator[DevTools]:
    tmp = cycle["tmp"]
    with open_page((cycle["run"] / "report.html").as_uri(), fontconfig(tmp), tmp / "page1") as client:
        yield client


@pytest.fixture(scope="module")
def report_edits(cycle: dict, first_page: DevTools) -> dict:
    """Two edits in the first report: unit 0 to another theme of the run, unit 1 to a theme named here."""
    recs = cycle["first"]
    a, b = recs.iloc[0], recs.iloc[1]
    other = next(t for t in recs["theme_id"] if t not in (a["theme_id"], "unassigned"))
    _move(first_page, a["rec_id"], other)
    _name_new_theme(first_page, b["rec_id"], FESTIVAL)
    return {a["rec_id"]: other, b["rec_id"]: researcher_theme_id(FESTIVAL)}


def test_edits_survive_a_reload_and_closing_asks_first(first_page: DevTools, report_edits: dict) -> None:
    a, b = report_edits
    assert first_page.js("document.getElementById('changed-count').textContent") == "2"
    assert _closing_is_held(first_page)
    first_page.events.clear()
    first_page.call("Page.reload")
    first_page.wait_for("Page.loadEventFired")
    assert first_page.js("document.getElementById('changed-count').textContent") == "2"
    assert first_page.js(f"{_select(first_page, a)}.value") == report_edits[a]
    assert first_page.js(f"{_select(first_page, b)}.value") == f"new:{FESTIVAL}"
    assert "2건" in first_page.js("document.getElementById('restored-note').textContent")


@pytest.fixture(scope="module")
def downloaded(cycle: dict, first_page: DevTools, report_edits: dict) -> Path:
    saved = download(first_page, "document.getElementById('download-corrections')", cycle["tmp"] / "dl1",
                     "corrections.csv")
    assert not _closing_is_held(first_page)  # downloaded: nothing unsaved
    return saved


def test_the_download_is_the_record_of_the_edits(downloaded: Path, report_edits: dict, cycle: dict) -> None:
    rows = _record(downloaded)
    first = cycle["first"].set_index("rec_id")
    assert [r["rec_id"] for r in rows] == list(report_edits)
    assert {r["rec_id"]: (r["theme_id"] or researcher_theme_id(r["theme_label"])) for r in rows} == report_edits
    assert all(r["source"] == "report" and r["time"] and r["previous_theme_id"] == first.loc[r["rec_id"], "theme_id"]
               for r in rows)


@pytest.fixture(scope="module")
def recoded(cycle: dict) -> tuple[Path, dict]:
    """The run exported to REFI-QDA, one unit recoded, one coded with a code made in the tool, imported."""
    recs, tmp, run = cycle["first"], cycle["tmp"], cycle["run"]
    labels = pd.read_csv(run / "themes.csv", encoding="utf-8-sig", dtype=str).set_index("theme_id")["theme_label"]
    c, d = recs.iloc[5], recs.iloc[9]
    other = next(t for t in labels.index if t != c["theme_id"])
    assert main(["export-qdpx", str(run), "--out", str(tmp / "run.qdpx"), "--quiet"]) == 0
    project = Project(tmp / "run.qdpx")
    project.recode(c["rec_id"], labels[other])
    project.add_code(CLIMATE)
    project.recode(d["rec_id"], CLIMATE)
    project.as_maxqda()
    project.save(tmp / "recoded.qdpx")
    assert main(["import-qdpx", str(tmp / "recoded.qdpx"), "--run", str(run), "--out", str(tmp / "q.csv"),
                 "--quiet"]) == 0
    return tmp / "q.csv", {c["rec_id"]: other, d["rec_id"]: researcher_theme_id(CLIMATE)}


@pytest.fixture(scope="module")
def second_page(cycle: dict, first_page: DevTools, downloaded: Path, recoded: tuple[Path, dict]) -> Iterator[DevTools]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISORY_CACHE_DIR", str(cycle["tmp"] / "cache"))
        _rerun(first_page, [downloaded, recoded[0]])
    tmp = cycle["tmp"]
    with open_page((cycle["run"] / "report.html").as_uri(), fontconfig(tmp), tmp / "page2") as client:
        yield client


def test_the_rerun_has_report_and_qda_decisions_in_effect(cycle: dict, second_page: DevTools, report_edits: dict,
                                                          recoded: tuple[Path, dict]) -> None:
    recs = _recs(cycle["run"]).set_index("rec_id")
    for rec_id, theme_id in {**report_edits, **recoded[1]}.items():
        assert (recs.loc[rec_id, "theme_id"], recs.loc[rec_id, "theme_source"]) == (theme_id, "researcher")
        assert second_page.js(f"{_select(second_page, rec_id)}.value") == theme_id
    themes = pd.read_csv(cycle["run"] / "themes.csv", encoding="utf-8-sig", dtype=str).set_index("theme_id")
    assert themes.loc[researcher_theme_id(FESTIVAL), "theme_source"] == "researcher"
    assert themes.loc[researcher_theme_id(CLIMATE), "theme_label"] == CLIMATE
    # The report's own decisions win over the QDA project's rows that only kept what the run showed.
    record = {r["rec_id"]: r for r in _record(cycle["run"] / "corrections.csv")}
    assert {r: record[r]["source"] for r in report_edits} == {r: "report" for r in report_edits}
    assert len(record) == len(recs)


def test_the_first_browser_drops_its_kept_edits_once_the_rerun_has_them(first_page: DevTools,
                                                                       second_page: DevTools) -> None:
    """The browser that made the edits reloads the rerun's report: both are in effect (the new theme by its
    id now), so none is pending and closing asks nothing."""
    first_page.events.clear()
    first_page.call("Page.reload")
    first_page.wait_for("Page.loadEventFired")
    assert first_page.js("document.getElementById('changed-count').textContent") == "0"
    assert first_page.js("document.getElementById('restored-note').hidden") is True
    assert not _closing_is_held(first_page)


def test_a_second_edit_downloads_the_whole_record_and_the_last_rerun_keeps_everything(
        cycle: dict, second_page: DevTools, report_edits: dict, recoded: tuple[Path, dict]) -> None:
    recs = _recs(cycle["run"])
    decided = {**report_edits, **recoded[1]}
    e = recs[~recs["rec_id"].isin(decided)].iloc[3]
    target = researcher_theme_id(CLIMATE)
    _move(second_page, e["rec_id"], target)
    saved = download(second_page, "document.getElementById('download-corrections')", cycle["tmp"] / "dl2",
                     "corrections.csv")
    rows = {r["rec_id"]: r for r in _record(saved)}
    assert len(rows) == len(recs) and rows[e["rec_id"]]["source"] == "report"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISORY_CACHE_DIR", str(cycle["tmp"] / "cache"))
        _rerun(second_page, [saved])
    final = _recs(cycle["run"]).set_index("rec_id")
    record = {r["rec_id"]: r for r in _record(cycle["run"] / "corrections.csv")}
    for rec_id, theme_id in {**decided, e["rec_id"]: target}.items():
        assert (final.loc[rec_id, "theme_id"], final.loc[rec_id, "theme_source"]) == (theme_id, "researcher")
        assert record[rec_id]["theme_id"] == theme_id
    assert os.path.getsize(cycle["run"] / "corrections.csv") > 0
