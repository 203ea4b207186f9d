"""REFI-QDA export: a project that validates against the schema, members as cases carrying each unit's confidence,
selections that cut each unit out of its source, GUIDs stable across runs, refusal of a moved input."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.qda.export import export_qdpx
from pipeline.read.documents import read_document
from tests.support.qdpx_files import NS, SCHEMA, project_tree, recommendations


def test_export_validates_against_the_refi_qda_schema(exported, runs):
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    project = project_tree(exported)
    schema.assertValid(project)
    with zipfile.ZipFile(exported) as archive:
        names = archive.namelist()
    assert names[0] == "project.qde" and len(names) == 3 and all(n.startswith("Sources/") for n in names[1:])
    # the package validates with its own copy of the schema: it must be the standard's
    assert (Path(__file__).resolve().parents[2] / "pipeline" / "qda" / "schemas" / "Project.xsd").read_bytes() == \
        SCHEMA.read_bytes()

    recs = recommendations(runs[0])
    selections = project.findall(".//q:PlainTextSelection", NS)
    assert sorted(s.get("name") for s in selections) == sorted(recs["rec_id"])
    codes = {c.get("guid"): c.get("name") for c in project.iterfind(".//q:Code", NS)}
    themes = pd.read_csv(runs[0] / "themes.csv", encoding="utf-8-sig", dtype=str)
    names = json.loads((runs[0] / "run.json").read_text(encoding="utf-8"))["programs"]
    by_rec = {s.get("name"): [codes[r.get("targetGUID")] for r in s.iterfind("q:Coding/q:CodeRef", NS)]
              for s in selections}
    for row in recs.itertuples(index=False):
        label = themes.set_index("theme_id").loc[row.theme_id, "theme_label"]
        expected_programs = [f"{c} {names[c]}" for c in row.program_codes.split(";") if c]
        review = ["검토 필요"] if row.needs_review == "1" else []
        assert by_rec[row.rec_id] == [label, *expected_programs, *review], row.rec_id
    assert "1" in set(recs["needs_review"]) and "0" in set(recs["needs_review"])


def test_cases_tell_members_apart_and_carry_each_units_confidence(exported, runs):
    """Masked names (○○○ 위원) cannot tell members apart: cases are named by number; each unit is a case too,
    whose variables (score, runner-up, margin, review flag) a QDA user can filter on."""
    project = project_tree(exported)
    recs = recommendations(runs[0]).set_index("rec_id")
    guid_to_rec = {s.get("guid"): s.get("name") for s in project.iterfind(".//q:PlainTextSelection", NS)}
    variables = {v.get("guid"): (v.get("name"), v.get("typeOfVariable")) for v in project.iterfind(".//q:Variable", NS)}
    assert sorted(variables.values()) == sorted([("주제 점수", "Float"), ("차순위 주제", "Text"), ("점수 차이", "Float"),
                                                 ("검토 필요", "Boolean"), ("주제 출처", "Text")])
    members, units = {}, {}
    for case in project.iterfind(".//q:Case", NS):
        held = {guid_to_rec[r.get("targetGUID")] for r in case.iterfind("q:SelectionRef", NS)}
        if case.get("name").startswith("권고 "):
            values = {variables[v.find("q:VariableRef", NS).get("targetGUID")][0]: v[1].text
                      for v in case.iterfind("q:VariableValue", NS)}
            units[case.get("name")] = (held, values)
        else:
            members[case.get("name")] = held
    member_units = recs[recs["member"] != ""].groupby("member")
    assert sorted(members) == sorted(f"위원 {m} ({label.removesuffix('위원').strip()})" for m, label in
                                     member_units["member_label"].first().items())
    assert len(set(members)) == len(members) == recs["member"].replace("", None).nunique()
    assert sorted(units) == sorted(f"권고 {r}" for r in recs.index)
    for name, (held, values) in units.items():
        row = recs.loc[name.removeprefix("권고 ")]
        assert held == {row.name}
        assert values["검토 필요"] == ("true" if row["needs_review"] == "1" else "false")
        assert float(values["주제 점수"]) == pytest.approx(float(row["theme_score"]), abs=1e-4)
        assert ("점수 차이" in values) == (row["theme_margin"] != "")


def test_selection_offsets_cut_each_unit_out_of_its_source(exported, runs):
    info = json.loads((runs[0] / "run.json").read_text(encoding="utf-8"))
    docs = {Path(e["path"]).name: read_document(e["path"]) for e in info["inputs"]}
    assert set(docs) == {"seed.docx", "new_round.txt"} and docs["seed.docx"].format == "docx"
    recs = recommendations(runs[0]).set_index("rec_id")
    project = project_tree(exported)
    with zipfile.ZipFile(exported) as archive:
        for source in project.iterfind(".//q:TextSource", NS):
            text = archive.read(f"Sources/{source.get('plainTextPath').removeprefix('internal://')}").decode("utf-8")
            doc = docs[source.get("name")]
            assert text.split("\n")[:-1] == [line.text for line in doc.lines]
            for sel in source.iterfind("q:PlainTextSelection", NS):
                unit = recs.loc[sel.get("name")]
                lines = doc.lines[int(unit["line_start"]) - 1:int(unit["line_end"])]
                piece = text[int(sel.get("startPosition")):int(sel.get("endPosition"))]
                assert piece == "\n".join(line.text for line in lines).strip()
                for word in unit["text"].split()[:3]:
                    assert word in piece, (sel.get("name"), word)


def test_guids_are_stable_across_runs_of_the_same_input(runs, tmp_path):
    a = export_qdpx(runs[0], tmp_path / "a.qdpx").path
    b = export_qdpx(runs[1], tmp_path / "b.qdpx").path
    guids = [{e.get("name") or e.tag: e.get("guid") for e in project_tree(p).iter() if e.get("guid")} for p in (a, b)]
    assert guids[0] == guids[1] and len(guids[0]) > 60
    assert a.read_bytes() == b.read_bytes()


def test_export_refuses_a_moved_or_changed_input(runs, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(runs[0], run)
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    moved = tmp_path / "new_round.txt"
    entry = next(e for e in info["inputs"] if e["path"].endswith("new_round.txt"))
    shutil.copy(entry["path"], moved)
    entry["path"] = str(moved)
    (run / "run.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "x.qdpx"
    assert export_qdpx(run, out).sources == 2

    out.unlink()
    moved.write_text(moved.read_text(encoding="utf-8") + "\n ㅇ 추가된 권고\n", encoding="utf-8")
    assert main(["export-qdpx", str(run), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"오류: {moved}: 실행 {run} 이후 바뀌었습니다 (SHA-256이 run.json과 다름)"
    moved.unlink()
    with pytest.raises(InputError, match="입력 파일이 없습니다"):
        export_qdpx(run, out)
    assert not out.exists() and not any(p.name.startswith(".x.qdpx") for p in tmp_path.iterdir())
