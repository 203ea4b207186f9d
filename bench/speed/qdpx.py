"""REFI-QDA exchange benchmark: export a run folder as .qdpx, import it back, and import it after a
tool has renewed every selection GUID (so every selection is matched by its position).

``python -m bench.speed.qdpx [N_UNITS]`` (default 10,000) parses a synthetic round from
``bench.lib.synth`` and writes the three run-folder files the exchange reads (recommendations.csv,
themes.csv, run.json) with codebook themes given round-robin: the exchange's cost depends on the
number of units and codes, not on which theme a unit has, so no theme model is fitted here.
Goal: every step linear in the units (a few seconds at 10k). The table is block ``qdpx`` of
``bench/results/qdpx.json``.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from bench.lib.synth import synth_round, synthetic_study
from bench.lib.tables import Column, figure, table, text
from pipeline.core.records import Assignment, ThemeCard
from pipeline.qda.export import QDA_NAMESPACE, export_qdpx
from pipeline.qda.importer import import_qdpx
from pipeline.read.documents import read_document
from pipeline.read.rounds import load_units
from pipeline.runfolder.schema import recommendations_frame, themes_frame, write_csv
from pipeline.themes.codebook import load_codebook


def make_run_folder(round_file: Path, folder: Path) -> int:
    """Write recommendations.csv, themes.csv and run.json for ``round_file``; return the number of units."""
    units = load_units([round_file])
    book = load_codebook()
    themes = book.themes
    assignments = [Assignment(u.rec_id, themes[k % len(themes)].theme_id, themes[k % len(themes)].label, 0.5,
                              "codebook") for k, u in enumerate(units)]
    summaries = [ThemeCard(t.theme_id, t.label, "codebook", sum(a.theme_id == t.theme_id for a in assignments),
                       t.keywords, ()) for t in themes]
    folder.mkdir()
    write_csv(recommendations_frame(units, assignments), folder / "recommendations.csv")
    write_csv(themes_frame(summaries), folder / "themes.csv")
    doc = read_document(round_file)
    info = {"inputs": [{"path": str(round_file), "sha256": doc.sha256, "format": "txt"}],
            "parameters": {"codebook": {"path": book.source, "sha256": book.sha256}}, "programs": {}}
    (folder / "run.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return len(units)


def renew_guids(source: Path, target: Path) -> None:
    """Copy a .qdpx giving every selection a new GUID, as a tool that does not keep them would."""
    with zipfile.ZipFile(source) as old:
        project = etree.fromstring(old.read("project.qde"))
        fresh = {}
        for sel in project.iter(f"{{{QDA_NAMESPACE}}}PlainTextSelection"):
            fresh[sel.get("guid")] = str(uuid.uuid4())
            sel.set("guid", fresh[sel.get("guid")])
        for ref in project.iter(f"{{{QDA_NAMESPACE}}}SelectionRef"):
            ref.set("targetGUID", fresh[ref.get("targetGUID")])
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
            for name in old.namelist():
                new.writestr(name, etree.tostring(project) if name == "project.qde" else old.read(name))


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: export, import and import after renewed GUIDs of a synthetic round; record the table."""
    args, recorder = synthetic_study(__spec__.name, __doc__.splitlines()[0], argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        round_file = tmp / "synthetic.txt"
        round_file.write_text(synth_round(args.n_units, seed=0), encoding="utf-8")
        units = make_run_folder(round_file, tmp / "run")
        t_export, summary = timed(lambda: export_qdpx(tmp / "run", tmp / "run.qdpx"))
        t_import, result = timed(lambda: import_qdpx(tmp / "run.qdpx", tmp / "run", tmp / "c.csv"))
        # An unchanged project: every unit read back with its coding, none changed.
        assert result.matched == units and len(result.corrections) == units and not result.changed
        renew_guids(tmp / "run.qdpx", tmp / "renewed.qdpx")
        t_renewed, renewed = timed(lambda: import_qdpx(tmp / "renewed.qdpx", tmp / "run", tmp / "c2.csv"))
        assert renewed.matched == units and not renewed.changed and not renewed.unmatched
        size = (tmp / "run.qdpx").stat().st_size / 1e6
    rows = [[name, t, units / t] for name, t in (
        ("export (re-read, build, validate, zip)", t_export), ("import (GUIDs kept)", t_import),
        ("import (every GUID renewed)", t_renewed))]
    recorder.record("qdpx", "REFI-QDA export and import of a synthetic round", [
        text(f"Synthetic round: {units:,} units; .qdpx {size:.2f} MB, {summary.codes} codes, {summary.cases} cases."),
        table([Column("step"), figure("seconds", "{:.3f}"), figure("units/s", "{:,.0f}")], rows)])


if __name__ == "__main__":
    main()
