"""REFI-QDA import: a (recoded) project read back as the run's coding record.

The runs come from ``conftest.py`` (a DOCX and a text file, tfidf embedder, made once for the package);
projects edited the way MAXQDA, NVivo and ATLAS.ti write them are in ``test_importer_tools.py``, the export
in ``test_export.py``.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.qda.importer import import_qdpx
from pipeline.read.documents import read_document
from pipeline.runfolder.schema import RECORD_COLUMNS as COLUMNS
from tests.support.qdpx_files import NS, REFI, SCHEMA, project_tree, recommendations

ATLAS_SAMPLE = REFI / "sample-atlasti-project.qdpx"
BOM = b"\xef\xbb\xbf"


def _rezip(source: Path, target: Path, project: etree._Element) -> Path:
    """Copy a .qdpx with its project.qde replaced, as a QDA tool would save a recoded project."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = etree.tostring(project, xml_declaration=True, encoding="utf-8") if name == "project.qde" \
                else old.read(name)
            new.writestr(name, data)
    return target


def _codes(project: etree._Element) -> dict[str, str]:
    """Code name -> GUID."""
    return {c.get("name"): c.get("guid") for c in project.iterfind(".//q:Code", NS)}


def _read_corrections(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    return pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_round_trip_returns_every_units_theme(exported, runs, tmp_path):
    out = tmp_path / "corrections.csv"
    result = import_qdpx(exported, runs[0], out)
    recs = recommendations(runs[0])
    assert result.matched == len(recs) and not result.changed and not result.unmatched
    got = _read_corrections(out)
    assert list(got.columns) == list(COLUMNS)
    assert list(zip(got["rec_id"], got["theme_id"], strict=True)) == list(zip(recs["rec_id"], recs["theme_id"],
                                                                              strict=True))
    assert set(got["source"]) == {"qdpx"} and (got["previous_theme_id"] == got["theme_id"]).all()
    assert list(got["theme_label"]) == list(recs["theme_label"])


def test_recoding_two_units_in_the_xml_gives_those_two_changes(exported, runs, tmp_path, caplog):
    recs = recommendations(runs[0])
    project = project_tree(exported)
    codes = _codes(project)
    labels = pd.read_csv(runs[0] / "themes.csv", encoding="utf-8-sig", dtype=str).set_index("theme_id")["theme_label"]
    picks = recs.iloc[[0, 7]]
    wanted = {}
    for row in picks.itertuples(index=False):
        new = next(t for t in labels.index if t != row.theme_id)
        sel = project.find(f".//q:PlainTextSelection[@name='{row.rec_id}']", NS)
        ref = sel.find("q:Coding/q:CodeRef", NS)
        assert ref.get("targetGUID") == codes[labels[row.theme_id]]
        ref.set("targetGUID", codes[labels[new]])
        wanted[row.rec_id] = new
    edited = _rezip(exported, tmp_path / "recoded.qdpx", project)

    out = tmp_path / "corrections.csv"
    with caplog.at_level(logging.INFO):
        assert main(["import-qdpx", str(edited), "--run", str(runs[0]), "--out", str(out)]) == 0
    got = _read_corrections(out).set_index("rec_id")
    assert len(got) == len(recs)
    changed = got[got["theme_id"] != got["previous_theme_id"]]
    assert changed["theme_id"].to_dict() == wanted
    assert all(note.startswith("recoded.qdpx: ") and "→" in note for note in changed["note"])
    # The diff is printed, one line per change, with the themes' labels.
    lines = [r.getMessage() for r in caplog.records if "→" in r.getMessage() and r.getMessage().startswith("  ")]
    assert sorted(lines) == sorted(f"  {r}: {labels[recs.set_index('rec_id').loc[r, 'theme_id']]} → {labels[t]}"
                                   for r, t in wanted.items())
    # --changed-only writes the two changes alone (the units left as they were keep the model's confidence).
    assert main(["import-qdpx", str(edited), "--run", str(runs[0]), "--out", str(out), "--changed-only"]) == 0
    assert _read_corrections(out).set_index("rec_id")["theme_id"].to_dict() == wanted


def test_a_code_made_in_the_tool_becomes_a_researcher_theme(exported, runs, tmp_path):
    """A new code under 주제, applied to a unit in place of its theme: a researcher theme; a unit coded with two
    themes keeps the first and the second is reported."""
    recs = recommendations(runs[0])
    project = project_tree(exported)
    branch = project.find(".//q:Code[@name='주제']", NS)
    climate = etree.SubElement(branch, f"{{{NS['q']}}}Code", guid=str(uuid.uuid4()).upper(), name="기후·환경",
                               isCodable="true")
    target, double = recs.iloc[2], recs.iloc[5]
    project.find(f".//q:PlainTextSelection[@name='{target['rec_id']}']/q:Coding/q:CodeRef", NS).set(
        "targetGUID", climate.get("guid"))
    coding = etree.SubElement(project.find(f".//q:PlainTextSelection[@name='{double['rec_id']}']", NS),
                              f"{{{NS['q']}}}Coding", guid=str(uuid.uuid4()))
    etree.SubElement(coding, f"{{{NS['q']}}}CodeRef", targetGUID=climate.get("guid"))
    edited = _rezip(exported, tmp_path / "new-code.qdpx", project)
    result = import_qdpx(edited, runs[0], tmp_path / "c.csv")
    climate_id = next(iter(result.new_themes))
    assert result.new_themes == {climate_id: "기후·환경"} and climate_id.startswith("researcher_")
    assert result.changed == ((target["rec_id"], target["theme_id"], climate_id),)
    assert result.ambiguous == ((double["rec_id"], climate_id),)
    rows = {c.rec_id: c for c in result.corrections}
    assert (rows[target["rec_id"]].theme_id, rows[target["rec_id"]].theme_label) == (climate_id, "기후·환경")
    assert rows[double["rec_id"]].theme_id == double["theme_id"]  # the first theme code is kept


def test_renamed_moved_codes_and_new_selection_guids_still_map_back(exported, runs, tmp_path):
    """A tool that renames codes, flattens the code tree and makes its own selection GUIDs."""
    recs = recommendations(runs[0])
    project = project_tree(exported)
    codes = project.find(".//q:CodeBook/q:Codes", NS)
    for branch in list(codes):
        for code in list(branch.iterfind("q:Code", NS)):
            code.set("name", f"[{code.get('name')}]")  # renamed, so only the GUID says which theme it is
            codes.append(code)                          # moved to the top level
    for sel in project.iterfind(".//q:PlainTextSelection", NS):
        fresh = str(uuid.uuid4())
        for ref in project.iterfind(f".//q:SelectionRef[@targetGUID='{sel.get('guid')}']", NS):
            ref.set("targetGUID", fresh)
        sel.set("guid", fresh)
        del sel.attrib["name"]
    # a new code the researcher made, named by a theme id, applied to one unit instead of its theme
    target = recs.iloc[3]
    other = next(t for t in recommendations(runs[0])["theme_id"] if t != target["theme_id"])
    new_code = etree.SubElement(codes, f"{{{NS['q']}}}Code", guid=str(uuid.uuid4()).upper(), name=other,
                                isCodable="true")
    docs_unit = project.findall(".//q:PlainTextSelection", NS)
    start = {(s.getparent().get("name"), s.get("startPosition")): s for s in docs_unit}
    info = json.loads((runs[0] / "run.json").read_text(encoding="utf-8"))
    doc = read_document(next(e["path"] for e in info["inputs"] if Path(e["path"]).name == target["source"]))
    offset = sum(len(line.text) + 1 for line in doc.lines[:int(target["line_start"]) - 1])
    first = doc.lines[int(target["line_start"]) - 1].text
    sel = start[(target["source"], str(offset + len(first) - len(first.lstrip())))]
    sel.find("q:Coding/q:CodeRef", NS).set("targetGUID", new_code.get("guid"))
    edited = _rezip(exported, tmp_path / "other-tool.qdpx", project)
    etree.XMLSchema(etree.parse(str(SCHEMA))).assertValid(project)

    result = import_qdpx(edited, runs[0], tmp_path / "c.csv")
    assert result.matched == len(recs) and not result.unmatched and len(result.corrections) == len(recs)
    assert [(r, new) for r, _, new in result.changed] == [(target["rec_id"], other)]


def test_selection_outside_every_unit_is_one_warning(exported, runs, tmp_path, caplog):
    project = project_tree(exported)
    source = project.find(".//q:TextSource[@name='seed.docx']", NS)
    theme = project.find(".//q:Code[@isCodable='true']", NS).get("guid")
    # the document title "붙 임  위원별 자문내용" on line 2 belongs to no unit
    sel = etree.Element(f"{{{NS['q']}}}PlainTextSelection", guid=str(uuid.uuid4()), startPosition="1",
                        endPosition="5")
    coding = etree.SubElement(sel, f"{{{NS['q']}}}Coding", guid=str(uuid.uuid4()))
    etree.SubElement(coding, f"{{{NS['q']}}}CodeRef", targetGUID=theme)
    source.insert(0, sel)
    edited = _rezip(exported, tmp_path / "extra.qdpx", project)
    with caplog.at_level(logging.WARNING):
        result = import_qdpx(edited, runs[0], tmp_path / "c.csv")
    assert len(result.unmatched) == 1 and not result.changed
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "코딩된 구간 1개는" in warnings[0] and "어느 권고와도 맞지 않아" in warnings[0]


def test_atlas_ti_sample_is_read(runs, tmp_path, caplog):
    """The real ATLAS.ti export: read without error; it holds no source of this run, so no unit is found."""
    out = tmp_path / "corrections.csv"
    with caplog.at_level(logging.INFO):
        assert main(["import-qdpx", str(ATLAS_SAMPLE), "--run", str(runs[0]), "--out", str(out)]) == 0
    assert _read_corrections(out).empty
    assert "권고 0건을 찾았고" in caplog.text


def _zip_with(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("content, reason", [
    (b"PK\x03\x04 not really a zip", "ZIP 압축 파일이 아님"),
    ({"Sources/a.txt": b"text"}, "project.qde가 없음"),
    ({"project.qde": b"<Project xmlns='urn:QDA-XML:project:1.0' name='x'><Users>"}, "올바른 XML이 아닙니다"),
    ({"project.qde": b"<Project xmlns='urn:QDA-XML:project:1.0' name='x'><Sources><TextSource guid='x'/>"
                     b"</Sources></Project>"}, "REFI-QDA 1.0 스키마에 맞지 않습니다"),
])
def test_malformed_qdpx_is_one_line_error_and_writes_nothing(runs, tmp_path, capsys, content, reason):
    bad = tmp_path / "bad.qdpx"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        _zip_with(bad, content)
    out = tmp_path / "corrections.csv"
    out.write_text("earlier file\n", encoding="utf-8")
    with pytest.raises(InputError, match=reason) as info:
        import_qdpx(bad, runs[0], out)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    assert main(["import-qdpx", str(bad), "--run", str(runs[0]), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"오류: {bad}:") and reason in err and "\n" not in err
    assert out.read_text(encoding="utf-8") == "earlier file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.qdpx", "corrections.csv"]


