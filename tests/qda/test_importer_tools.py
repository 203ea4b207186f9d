"""Import of projects coded in MAXQDA, NVivo and ATLAS.ti: the exported project is recoded (one unit to another
theme, one to a code made in the tool) and saved the way each tool writes projects
(``tests/support/qda_tools.py``): every unit's theme comes back, exactly the two changes, the new code as a
researcher theme. A project whose source was edited in the tool and whose GUIDs were renewed gives one
change where one unit was recoded: positions count only where the text at them is the unit's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.qda.importer import import_qdpx
from pipeline.themes.corrections import researcher_theme_id
from tests.support.qda_tools import NS, Project

CLIMATE = "기후·환경"


def _recs(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _labels(run: Path) -> dict[str, str]:
    return pd.read_csv(run / "themes.csv", encoding="utf-8-sig", dtype=str).set_index("theme_id")["theme_label"].to_dict()


@pytest.mark.parametrize("tool", ["maxqda", "nvivo", "atlas"])
def test_a_project_recoded_in_each_tool_comes_back_whole(exported, runs, tmp_path, tool):
    recs, labels = _recs(runs[0]), _labels(runs[0])
    moved, climate = recs.iloc[1], recs.iloc[-2]  # one unit of each source file
    other = next(t for t in labels if t != moved["theme_id"])
    project = Project(exported)
    project.recode(moved["rec_id"], labels[other])
    project.add_code(CLIMATE)
    project.recode(climate["rec_id"], CLIMATE)
    getattr(project, f"as_{tool}")()
    result = import_qdpx(project.save(tmp_path / f"{tool}.qdpx"), runs[0], tmp_path / "c.csv")

    climate_id = researcher_theme_id(CLIMATE)
    assert result.matched == len(recs) and not result.unmatched and not result.uncoded
    assert sorted(result.changed) == sorted([(moved["rec_id"], moved["theme_id"], other),
                                             (climate["rec_id"], climate["theme_id"], climate_id)])
    assert result.new_themes == {climate_id: CLIMATE}
    assert [c.rec_id for c in result.corrections] == list(recs["rec_id"])
    recoded = {c.rec_id: c for c in result.corrections}[moved["rec_id"]]
    assert recoded.time == project.time and recoded.source == "qdpx"


def test_an_edited_source_with_renewed_guids_gives_one_change_for_one_recode(exported, runs, tmp_path):
    """Lines added at the top of the DOCX's text in the tool, a typo fixed inside a unit, every GUID renewed:
    the units are found by their text, and the one recoded unit is the one change."""
    recs, labels = _recs(runs[0]), _labels(runs[0])
    docx = recs[recs["source"] == "seed.docx"]
    moved, typo = docx.iloc[4], docx.iloc[10]
    other = next(t for t in labels if t != moved["theme_id"])
    project = Project(exported)
    project.recode(moved["rec_id"], labels[other])
    source = project.root.find(".//q:TextSource[@name='seed.docx']", NS)
    member = "Sources/" + source.get("plainTextPath").removeprefix("internal://")
    text = project.sources[member]
    inserted = "연구자 메모: 회의 전 검토\n두 번째 줄\n"
    fixed_at = text.index(typo["text"][:12]) + 3
    for selection in source.iterfind("q:PlainTextSelection", NS):
        for attribute in ("startPosition", "endPosition"):
            position = int(selection.get(attribute))
            selection.set(attribute, str(position + len(inserted) + (1 if position > fixed_at else 0)))
    project.sources[member] = inserted + text[:fixed_at] + "ㆍ" + text[fixed_at:]
    project.renew_guids()
    result = import_qdpx(project.save(tmp_path / "edited.qdpx"), runs[0], tmp_path / "c.csv")
    assert result.changed == ((moved["rec_id"], moved["theme_id"], other),)
    assert result.matched == len(recs) and not result.unmatched
    assert {c.rec_id: c.theme_id for c in result.corrections}[typo["rec_id"]] == typo["theme_id"]
