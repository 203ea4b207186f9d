"""The archive of rounds: every coded round in one DuckDB file (CONTRACT.md "Archive of rounds").

Tables (plain SQL works on the file; the README lists every column):

- ``meta(key, value)``: ``schema_version`` (checked on open: a newer one is refused, a version-1 file
  gains the confidence columns the first time it is opened for writing), the pinned
  model (``model_hash``, ``model_path``) and the package version that created the file;
- ``rounds``: one row per round (name, date, order added, unit counts, model, corrections file, timings);
- ``inputs``: the round's files with sha256; ``models``: every model used (hash, path, embedder, themes);
- ``units``: the ``recommendations.csv`` columns with ``round_name`` first, then the unit's order ``seq``
  and its confidence (``theme_runner_up``, ``theme_margin``, ``needs_review``; theme columns after
  corrections); ``assignments``: the model's own theme and confidence per unit;
  ``corrections``: the researcher's lines applied; ``themes``: ``themes.csv`` per round.

Rules: a round is written in one transaction, and only its own rows are written, so adding,
replacing or removing one round never changes another's rows. The first round pins its model
(folder path and a hash of its files); later rounds use it unless ``--model`` names another
explicitly (that round then records its own model, with a warning). ``recode`` re-assigns the
stored units of one round with a model, keeping its corrections. DuckDB allows one writing
process per file: a second one waits up to ``wait`` seconds, then stops with a one-line message.
The model work of ``add`` happens before the file is opened, so a waiting process waits only
for the other's write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.archive.db import (
    DEFAULT_WAIT,
    ROUND_TABLES,
    open_archive,
    open_if_any,
    package_version,
    read_meta,
    transaction,
)
from pipeline.core.errors import InputError
from pipeline.core.options import DEFAULT_OPTIONS, RunOptions
from pipeline.core.records import Assignment, ThemeCard, Unit
from pipeline.runfolder.folder import load_run
from pipeline.runfolder.schema import (
    STORED_ASSIGNMENT_COLUMNS,
    STORED_RECORD_COLUMNS,
    STORED_UNIT_COLUMNS,
    assignment_cells,
    correction_cells,
    recommendations_frame,
    themes_frame,
    unit_from_cells,
)
from pipeline.themes.corrections import CodingRecord, Correction

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ModelRef:
    """A saved theme model as the archive knows it: folder, content hash, embedder and themes (id, label)."""

    path: str
    sha256: str
    embedder: str | None = None
    embedder_model_id: str | None = None
    themes: tuple[tuple[str, str], ...] = ()


@dataclass
class StoredRound:
    """Everything one round puts in the archive (built by :func:`add_round`, :func:`add_run_folder` or
    :func:`recode_round`, or directly in tests).

    ``assignments`` are the model's own choices (the ``assignments`` table; a reviewed run folder keeps
    them only for the units no researcher decided), ``final`` the units' themes with the researcher's
    decisions (``corrections``) applied (the ``units`` table; the model's own when None).
    """

    name: str
    units: list[Unit]
    assignments: list[Assignment]
    cards: list[ThemeCard]
    model: ModelRef
    date: dt.date | None = None
    corrections: list[Correction] = field(default_factory=list)
    corrections_path: str | None = None
    corrections_sha256: str | None = None
    inputs: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    final: list[Assignment] | None = None


# Shares from a round with fewer units than this are marked in the trend tables and report.
SMALL_ROUND = 20


@dataclass
class TrendTables:
    """The trend tables; ``rounds`` has ``round_name, round_date, n_units, small_round`` in archive order;
    ``new_themes`` lists each round's new-theme candidates (``advisory archive trends``: ``new_themes.csv``)."""

    rounds: pd.DataFrame
    themes: pd.DataFrame
    theme_by_round: pd.DataFrame
    program_by_round: pd.DataFrame
    theme_program_by_round: pd.DataFrame
    new_themes: pd.DataFrame = field(default_factory=pd.DataFrame)

def model_hash(folder: str | os.PathLike) -> str:
    """sha256 over a model folder's files (relative paths and contents, in sorted order)."""
    root = Path(folder)
    if not (root / "model.json").is_file():
        raise InputError(str(root), "not a saved theme model (no model.json); save one with "
                                    "`advisory run --save-model DIR`")
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as err:
        raise InputError("--date", f"{value!r} is not a date in the form YYYY-MM-DD") from err


def _model_ref(model_dir: Path, sha256: str, model) -> ModelRef:
    embedder = model.embedder if model.needs_embedder else None
    return ModelRef(str(model_dir), sha256, getattr(embedder, "name", None), getattr(embedder, "model_id", None),
                    tuple((t.theme_id, t.label) for t in model.themes_))


def _choose_model(archive: Path, model_dir: str | os.PathLike | None, wait: float) -> tuple[Path, str]:
    """The model folder a new round is coded with and its hash, by the pinning rule (module docstring)."""
    with open_if_any(archive, wait=wait) as con:
        pinned = read_meta(con) if con is not None else {}
    if model_dir is None:
        if "model_hash" not in pinned:
            raise InputError(str(archive), "the archive has no model yet: give --model DIR (a folder from "
                                           "`advisory run --save-model`) for its first round")
        folder = Path(pinned["model_path"])
        if not folder.is_dir():
            raise InputError(str(folder), "the archive's pinned model folder is missing; give --model DIR")
        sha = model_hash(folder)
        if sha != pinned["model_hash"]:
            raise InputError(str(folder), f"the pinned model folder has changed since the archive pinned it "
                                          f"({pinned['model_hash'][:12]} -> {sha[:12]}); give --model DIR to "
                                          "code this round with it as it is now")
        return folder, sha
    folder = Path(model_dir)
    sha = model_hash(folder)
    if pinned.get("model_hash") not in (None, sha):
        log.warning("%s: not the archive's pinned model (%s, %s); this round is coded with it as asked",
                    folder, pinned["model_path"], pinned["model_hash"][:12])
    return folder, sha


def add_round(archive: str | os.PathLike, paths: Sequence[str | os.PathLike], round_name: str,
              options: RunOptions = DEFAULT_OPTIONS, *, date: str | None = None,
              model_dir: str | os.PathLike | None = None,
              corrections: str | os.PathLike | Sequence[str | os.PathLike] | None = None, replace: bool = False,
              wait: float = DEFAULT_WAIT) -> StoredRound:
    """Read, parse and assign a round with the archive's model and store it as ``round_name``.

    In: the archive file (created on the first add), the round's files/folders, its name, the
    :class:`RunOptions` (registry, cache, workers, ``skip_bad``; the model brings its embedder), an
    optional ISO date, model folder (required for the first round; see the pinning rule) and
    corrections files (merged in order, checked before any work, applied as ``advisory assign`` applies
    them: :func:`pipeline.workflow.code_round`). A name already in the archive is refused unless
    ``replace``. Nothing is written unless the whole round is; out: what was stored.
    """
    # Deferred: pipeline.workflow brings scikit-learn (about 1.3 s to import), which list, remove and trends never need.
    from pipeline.workflow import assign_units, record_files

    archive, round_name, round_date = _checked_name(archive, round_name, date, replace, wait)
    folder, sha = _choose_model(archive, model_dir, wait)
    started = time.perf_counter()
    files = record_files(corrections)
    result = assign_units(paths, folder, options, corrections=files)
    timings = {**result.run_info["timings"], "assign_total": round(time.perf_counter() - started, 4)}
    stored = StoredRound(round_name, result.units, result.model_assignments, result.cards,
                         _model_ref(folder, sha, result.model), round_date, result.corrections,
                         ";".join(map(str, files)) or None,
                         ";".join(hashlib.sha256(f.read_bytes()).hexdigest() for f in files) or None,
                         result.run_info["inputs"], timings, result.assignments)
    store_round(archive, stored, replace=replace, wait=wait)
    return stored


def _checked_name(archive: str | os.PathLike, round_name: str, date: str | None, replace: bool,
                  wait: float) -> tuple[Path, str, dt.date | None]:
    """The archive path, the stripped round name and its date, refusing an empty or (without ``replace``) taken name."""
    archive = Path(archive)
    round_name = check_round_name(round_name)
    round_date = _parse_date(date)
    if not replace:
        with open_if_any(archive, wait=wait) as con:
            if con is not None:
                _refuse_existing(con, archive, round_name)
    return archive, round_name, round_date


def _run_model(run) -> ModelRef:
    """The saved model a run folder names (``--save-model`` of a run, ``--model`` of an assign), hashed as it is now;
    an empty reference when the run saved none or the folder is gone."""
    params = run.info.get("parameters") or {}
    folder = params.get("save_model") if params.get("command") == "run" else params.get("model")
    themes = tuple((t.theme_id, t.label) for t in run.theme_cards)
    if folder and (Path(folder) / "model.json").is_file():
        return ModelRef(str(folder), model_hash(folder), params.get("embedder"), params.get("embedder_model_id"),
                        themes)
    return ModelRef("", "", params.get("embedder"), params.get("embedder_model_id"), themes)


def add_run_folder(archive: str | os.PathLike, run_dir: str | os.PathLike, round_name: str, *,
                   date: str | None = None, replace: bool = False, wait: float = DEFAULT_WAIT) -> StoredRound:
    """Store a reviewed run folder as ``round_name`` exactly as it is: nothing is assigned again.

    The units and their themes, scores, runner-ups, margins and review flags are ``recommendations.csv``'s,
    the theme summaries ``themes.csv``'s, the researcher's decisions ``corrections.csv``'s, the inputs
    and timings ``run.json``'s. The round records the model the run names when that folder still holds
    a saved model (hashed now), and pins it when the archive has none. Raises ``InputError`` for a
    folder that is not a run folder, or a name already taken (unless ``replace``).
    """
    archive, round_name, round_date = _checked_name(archive, round_name, date, replace, wait)
    run = load_run(run_dir)
    decided = {c.rec_id for c in run.corrections}
    record = run.path / "corrections.csv"
    stored = StoredRound(
        round_name, list(run.units), [a for a in run.assignments if a.rec_id not in decided], list(run.theme_cards),
        _run_model(run), round_date, list(run.corrections), str(record) if run.corrections else None,
        _file_sha256(record) if run.corrections else None, list(run.info.get("inputs") or []),
        dict(run.info.get("timings") or {}), list(run.assignments))
    store_round(archive, stored, replace=replace, wait=wait)
    return stored


# A round name is a label people read in lists, tables and chart axes, not a document.
MAX_ROUND_NAME = 200


def check_round_name(name: str) -> str:
    """``name`` stripped; ``InputError`` for an empty name or one over :data:`MAX_ROUND_NAME` characters."""
    name = name.strip()
    if not name:
        raise InputError("--round-name", "a round needs a non-empty name")
    if len(name) > MAX_ROUND_NAME:
        raise InputError("--round-name", f"a round name has at most {MAX_ROUND_NAME} characters, this one has "
                                         f"{len(name):,}")
    return name


def _refuse_existing(con, archive: Path, round_name: str) -> None:
    if con.execute("SELECT 1 FROM rounds WHERE round_name = ?", [round_name]).fetchone():
        raise InputError(str(archive), f"round {round_name!r} is already in the archive; use --replace to "
                                       "replace it or choose another --round-name")


def store_round(archive: str | os.PathLike, stored: StoredRound, *, replace: bool = False,
                wait: float = DEFAULT_WAIT) -> None:
    """Write one round's rows in one transaction (the archive is created when missing).

    A name already present is refused unless ``replace`` (its rows are then replaced, keeping
    its place in the order and, when ``stored.date`` is None, its date). The first round pins
    its model. On any failure the archive is left as it was; a file this call created is removed
    (:func:`~pipeline.archive.db.open_archive`).
    """
    archive = Path(archive)
    check_round_name(stored.name)
    with open_archive(archive, read_only=False, create=True, wait=wait) as con, transaction(con):
        _write_round(con, archive, stored, replace)


def _write_round(con, archive: Path, stored: StoredRound, replace: bool) -> None:
    old = con.execute("SELECT position, round_date FROM rounds WHERE round_name = ?", [stored.name]).fetchone()
    if old is not None and not replace:
        _refuse_existing(con, archive, stored.name)
    round_date = stored.date
    if old is not None:
        position, round_date = old[0], stored.date or old[1]
        for table in ROUND_TABLES:
            con.execute(f"DELETE FROM {table} WHERE round_name = ?", [stored.name])
    else:
        position = con.execute("SELECT coalesce(max(position), 0) + 1 FROM rounds").fetchone()[0]
    meta = read_meta(con)
    # A reviewed run folder made without a saved model names none: there is nothing to pin or list.
    if "model_hash" not in meta and stored.model.sha256:
        con.executemany("INSERT INTO meta VALUES (?, ?)", [
            ["model_hash", stored.model.sha256], ["model_path", stored.model.path]])
    if stored.model.sha256:
        _write_model(con, stored.model)
    con.execute("INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)", [
        stored.name, round_date, position, len(stored.units), len(stored.corrections), stored.model.sha256,
        stored.model.path, stored.corrections_path, stored.corrections_sha256,
        dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0), package_version(),
        json.dumps(stored.timings, sort_keys=True)])
    if stored.inputs:
        con.executemany("INSERT INTO inputs VALUES (?, ?, ?, ?, ?)", [
            [stored.name, i.get("path"), i.get("sha256"), i.get("format"), i.get("encoding")] for i in stored.inputs])
    _write_coding(con, stored)


def _write_model(con, model: ModelRef) -> None:
    if not con.execute("SELECT 1 FROM models WHERE model_hash = ?", [model.sha256]).fetchone():
        con.execute("INSERT INTO models VALUES (?, ?, ?, ?, ?)", [
            model.sha256, model.path, model.embedder, model.embedder_model_id,
            json.dumps([list(t) for t in model.themes], ensure_ascii=False)])


def _write_coding(con, stored: StoredRound) -> None:
    """The round's units (final themes), the model's assignments, its corrections and theme summaries, in the
    columns of :mod:`pipeline.runfolder.schema` (the ``units`` rows are ``recommendations.csv``'s)."""
    frame = recommendations_frame(stored.units, stored.assignments if stored.final is None else stored.final)
    frame["seq"] = range(1, len(frame) + 1)
    units = frame[list(STORED_UNIT_COLUMNS)].astype({"needs_review": bool})
    raw = pd.DataFrame([{"rec_id": a.rec_id, **assignment_cells(a, digits=None)} for a in stored.assignments],
                       columns=list(STORED_ASSIGNMENT_COLUMNS)).astype({"needs_review": bool})
    record = pd.DataFrame([{**correction_cells(c), "line": c.line} for c in stored.corrections],
                          columns=list(STORED_RECORD_COLUMNS))
    for table, rows in (("units", units), ("assignments", raw), ("themes", themes_frame(stored.cards)),
                        ("corrections", record)):
        rows.insert(0, "round_name", stored.name)
        con.register("frame", rows)
        # By name: an upgraded version-1 file has the confidence columns last, after seq.
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
        con.unregister("frame")


def _stored_corrections(con, round_name: str) -> list[Correction]:
    """A round's researcher decisions as stored (a version-2 file, read before its upgrade, lacks the record's
    newer columns: they read as empty)."""
    frame = con.execute("SELECT * FROM corrections WHERE round_name = ? ORDER BY line", [round_name]).df()
    cells = frame.astype(object).where(frame.notna(), None)
    return [Correction(r["rec_id"], r["theme_id"], r.get("theme_label") or "", r["note"] or "",
                       r.get("source") or "file", r.get("time") or "", r.get("previous_theme_id") or "",
                       int(r["line"] or 0)) for r in cells.to_dict("records")]


def stored_units(con, round_name: str) -> list[Unit]:
    """The units of an archived round rebuilt as :class:`Unit` records, in document order."""
    # Every cell as text, NULL as "": the row shape of recommendations.csv that unit_from_cells reads.
    # Ordered by the table's integer seq, not the text column of the same name.
    frame = con.execute("SELECT coalesce(COLUMNS(*)::VARCHAR, '') FROM units WHERE round_name = ? ORDER BY units.seq",
                        [round_name]).df()
    return [unit_from_cells(r) for r in frame.itertuples(index=False)]


def recode_round(archive: str | os.PathLike, round_name: str, model_dir: str | os.PathLike,
                 options: RunOptions = DEFAULT_OPTIONS, *, wait: float = DEFAULT_WAIT) -> StoredRound:
    """Re-assign an archived round's stored units with ``model_dir``, keeping its corrections; one transaction.

    The decisions are applied as ``add`` applies them (:func:`pipeline.workflow.code_round`): a researcher
    theme the new model lacks is made again from its stored label. The other rounds' rows are not
    touched. Raises ``InputError`` for an unknown round, or a correction to a theme the new model does
    not have and the archive has no label for.
    """
    from pipeline.workflow import assign_units

    archive = Path(archive)
    with open_archive(archive, wait=wait) as con:
        row = con.execute("SELECT round_date, corrections_path, corrections_sha256 FROM rounds WHERE round_name = ?",
                          [round_name]).fetchone()
        if row is None:
            raise InputError(str(archive), f"no round {round_name!r} in the archive (see `advisory archive list`)")
        units = stored_units(con, round_name)
        inputs = con.execute("SELECT path, sha256, format, encoding FROM inputs WHERE round_name = ?",
                             [round_name]).df().to_dict("records")
        corrections = _stored_corrections(con, round_name)
    folder = Path(model_dir)
    sha = model_hash(folder)
    started = time.perf_counter()
    result = assign_units([], folder, options, units=units, record=CodingRecord.from_rows(corrections))
    timings = {**result.run_info["timings"], "assign_total": round(time.perf_counter() - started, 4)}
    stored = StoredRound(round_name, result.units, result.model_assignments, result.cards,
                         _model_ref(folder, sha, result.model), row[0], result.corrections, row[1], row[2], inputs,
                         timings, result.assignments)
    with open_archive(archive, read_only=False, wait=wait) as con, transaction(con):
        added = con.execute("SELECT added_at FROM rounds WHERE round_name = ?", [round_name]).fetchone()
        if added is None:
            raise InputError(str(archive), f"round {round_name!r} was removed meanwhile")
        _write_round(con, archive, stored, replace=True)
        con.execute("UPDATE rounds SET added_at = ?, recoded_at = ? WHERE round_name = ?", [
            added[0], dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0), round_name])
    return stored


def remove_round(archive: str | os.PathLike, round_name: str, *, wait: float = DEFAULT_WAIT) -> None:
    """Delete one round's rows from every table in one transaction; the pinned model stays pinned."""
    archive = Path(archive)
    with open_archive(archive, read_only=False, wait=wait) as con, transaction(con):
        if not con.execute("SELECT 1 FROM rounds WHERE round_name = ?", [round_name]).fetchone():
            raise InputError(str(archive), f"no round {round_name!r} in the archive (see `advisory archive list`)")
        for table in ROUND_TABLES:
            con.execute(f"DELETE FROM {table} WHERE round_name = ?", [round_name])


def list_rounds(archive: str | os.PathLike, *, wait: float = DEFAULT_WAIT) -> pd.DataFrame:
    """One row per round in archive order: name, date, units, corrected units, model hash (12 chars), added."""
    with open_archive(archive, wait=wait) as con:
        return con.execute(
            "SELECT round_name, round_date, n_units, n_corrected, left(model_hash, 12) AS model, "
            "added_at, recoded_at FROM rounds ORDER BY round_date NULLS LAST, position").df()
