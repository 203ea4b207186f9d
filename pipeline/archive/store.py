"""One round's rows in the archive: what a round stores (:class:`StoredRound`), writing them in one transaction,
reading them back, removing a round, listing the rounds and exporting the tables.

The rows are the run folder's (:mod:`pipeline.runfolder.schema`): the ``units`` table holds
``recommendations.csv``'s columns with the round's name, the units' order and their confidence, the
``themes`` table ``themes.csv``'s. Only the round's own rows are written or removed, so adding, replacing or
removing one round never changes another's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.archive.db import (
    DEFAULT_WAIT,
    ROUND_TABLES,
    TABLES,
    open_archive,
    package_version,
    read_meta,
    transaction,
)
from pipeline.core.atomic import FolderKind, replacing
from pipeline.core.errors import InputError
from pipeline.core.records import Assignment, ThemeCard, Unit
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
from pipeline.themes.corrections import Correction

#: What ``export --out`` may replace: an earlier export folder.
EXPORT_FOLDER = FolderKind("이전 내보내기 폴더", "units.parquet")


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
    """Everything one round puts in the archive (built by :mod:`pipeline.archive.rounds`: ``add_round``,
    ``add_run_folder``, ``recode_round``; or directly in tests).

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


# A round name is a label people read in lists, tables and chart axes, not a document.
MAX_ROUND_NAME = 200


def check_round_name(name: str) -> str:
    """``name`` stripped; ``InputError`` for an empty name or one over :data:`MAX_ROUND_NAME` characters."""
    name = name.strip()
    if not name:
        raise InputError("--round-name", "회차 이름이 비어 있으면 안 됩니다")
    if len(name) > MAX_ROUND_NAME:
        raise InputError("--round-name", f"회차 이름은 {MAX_ROUND_NAME}자를 넘을 수 없습니다 (이 이름은 "
                                         f"{len(name):,}자)")
    return name


def refuse_existing(con, archive: Path, round_name: str) -> None:
    if con.execute("SELECT 1 FROM rounds WHERE round_name = ?", [round_name]).fetchone():
        raise InputError(str(archive), f"{round_name!r} 회차가 이미 보관소에 있습니다; 바꾸려면 --replace, "
                                       "아니면 다른 --round-name 을 주세요")


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
        write_round(con, archive, stored, replace)


def write_round(con, archive: Path, stored: StoredRound, replace: bool) -> None:
    old = con.execute("SELECT position, round_date FROM rounds WHERE round_name = ?", [stored.name]).fetchone()
    if old is not None and not replace:
        refuse_existing(con, archive, stored.name)
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


def stored_corrections(con, round_name: str) -> list[Correction]:
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


def remove_round(archive: str | os.PathLike, round_name: str, *, wait: float = DEFAULT_WAIT) -> None:
    """Delete one round's rows from every table in one transaction; the pinned model stays pinned."""
    archive = Path(archive)
    with open_archive(archive, read_only=False, wait=wait) as con, transaction(con):
        if not con.execute("SELECT 1 FROM rounds WHERE round_name = ?", [round_name]).fetchone():
            raise InputError(str(archive), f"보관소에 {round_name!r} 회차가 없습니다 (`advisory archive list` 참고)")
        for table in ROUND_TABLES:
            con.execute(f"DELETE FROM {table} WHERE round_name = ?", [round_name])


def list_rounds(archive: str | os.PathLike, *, wait: float = DEFAULT_WAIT) -> pd.DataFrame:
    """One row per round in archive order: name, date, units, corrected units, model hash (12 chars), added."""
    with open_archive(archive, wait=wait) as con:
        return con.execute(
            "SELECT round_name, round_date, n_units, n_corrected, left(model_hash, 12) AS model, "
            "added_at, recoded_at FROM rounds ORDER BY round_date NULLS LAST, position").df()


def export_tables(archive: str | os.PathLike, out_dir: str | os.PathLike, *, wait: float = DEFAULT_WAIT) -> Path:
    """Write every archive table as ``<table>.parquet`` into ``out_dir`` (rows in a stable order)."""
    order = {"meta": "key", "models": "model_hash", "units": "round_name, seq", "assignments": "round_name, rec_id",
             "corrections": "round_name, line", "themes": "round_name, theme_id", "rounds": "position",
             "inputs": "round_name, path"}

    def write(folder: Path) -> None:
        with open_archive(archive, wait=wait) as con:
            for table in TABLES:
                target = str(folder / f"{table}.parquet").replace("'", "''")
                con.execute(f"COPY (SELECT * FROM {table} ORDER BY {order[table]}) TO '{target}' (FORMAT parquet)")

    with replacing([EXPORT_FOLDER.target(out_dir)]) as (staging,):
        write(staging)
    return Path(out_dir)
