"""archive trends: the trend tables, trends.png and report.html of the shared archive, with its Korean font."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from pipeline.cli import main
from tests.support.archive_rows import as_version_1, sql

ROOT = Path(__file__).resolve().parents[2]


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
    counted = dict(((r, t), c) for r, t, c in sql(
        built["archive"], "select round_name, theme_id, count(*) from units group by all"))
    assert {k: v for k, v in themes.set_index(["round_name", "theme_id"])["count"].items() if v} == counted
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


def _first_theme_of_2025(con) -> tuple[str, str]:
    return con.execute("SELECT theme_id, keywords FROM themes WHERE round_name = '2025 자문' AND "
                       "theme_source = 'codebook' AND size > 0 ORDER BY theme_id LIMIT 1").fetchone()


def test_a_theme_the_model_always_had_is_not_a_concern_named_later(copy: Path) -> None:
    """A codebook theme with no units in 2024 was still in 2024's model (the archive lists each model's themes):
    a 2024 candidate sharing its words did not "become" it in 2025. Dropped from the stored model, the theme
    enters in 2025 and the candidate is that concern, named."""
    import json

    import duckdb

    from pipeline.archive.db import open_archive
    from pipeline.archive.trendtables import trend_tables

    con = duckdb.connect(str(copy))
    theme, keywords = _first_theme_of_2025(con)
    con.execute("DELETE FROM themes WHERE round_name = '2024 자문' AND theme_id = ?", [theme])
    con.execute("INSERT INTO themes (round_name, theme_id, theme_label, theme_source, size, keywords) "
                "VALUES ('2024 자문', 'new_theme_01', '새 주제 후보: 시험', 'discovered', 3, ?)", [keywords])
    # Nor is it any 2024 unit's runner-up: only the stored model says 2024 had it.
    con.execute("UPDATE units SET theme_runner_up = NULL WHERE round_name = '2024 자문'")
    con.close()

    def candidate_and_theme() -> tuple[list[str], str]:
        with open_archive(copy) as con:
            tables = trend_tables(con)
        raised = dict(zip(tables.themes["theme_id"], tables.themes["first_raised"], strict=True))
        return tables.new_themes["later_theme"].tolist(), raised.get(theme, "")

    assert candidate_and_theme() == ([""], "")
    con = duckdb.connect(str(copy))
    (themes,) = con.execute("SELECT themes FROM models").fetchone()
    con.execute("UPDATE models SET themes = ?",
                [json.dumps([t for t in json.loads(themes) if t[0] != theme], ensure_ascii=False)])
    con.close()
    assert candidate_and_theme() == ([f"{theme}@2025 자문"], "2024 자문")


def test_trends_of_a_version_1_archive_are_read_without_upgrading_it(copy: Path, tmp_path: Path) -> None:
    as_version_1(copy)
    assert main(["archive", "trends", "--archive", str(copy), "--out", str(tmp_path / "trends"), "--quiet"]) == 0
    assert sql(copy, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    assert (tmp_path / "trends" / "new_themes.csv").read_text(encoding="utf-8-sig").startswith("round_name,")
