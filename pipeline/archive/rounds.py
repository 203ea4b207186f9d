"""Coding a round into the archive: from its files with the archive's model (``add``), as a reviewed run folder
is (``add --run``), or again with another model (``recode``).

The first round pins its model (folder path and a hash of its files, in ``meta``); later rounds use it
unless ``--model`` names another explicitly (that round then records its own model, with a warning).
``recode`` re-assigns the stored units of one round with a model, keeping its corrections. The model work
of ``add`` happens before the file is opened for writing, so a second writer waits only for the other's
write (DuckDB allows one writing process per file: it waits up to ``wait`` seconds, then stops with a
one-line message). The rows are written by :mod:`pipeline.archive.store`, one round in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.archive.db import DEFAULT_WAIT, open_archive, open_if_any, read_meta, transaction
from pipeline.archive.store import (
    ModelRef,
    StoredRound,
    check_round_name,
    refuse_existing,
    store_round,
    stored_corrections,
    stored_units,
    write_round,
)
from pipeline.core.errors import InputError
from pipeline.core.options import DEFAULT_OPTIONS, RunOptions
from pipeline.runfolder.folder import load_run
from pipeline.themes.corrections import CodingRecord

log = logging.getLogger(__name__)


def model_hash(folder: str | os.PathLike) -> str:
    """sha256 over a model folder's files (relative paths and contents, in sorted order)."""
    root = Path(folder)
    if not (root / "model.json").is_file():
        raise InputError(str(root), "저장된 주제 모델이 아닙니다 (model.json 없음); "
                                    "`advisory run --save-model DIR` 로 저장하세요")
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
        raise InputError("--date", f"{value!r}은(는) YYYY-MM-DD 형식의 날짜가 아닙니다") from err


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
            raise InputError(str(archive), "보관소에 아직 모델이 없습니다: 첫 회차에는 --model DIR "
                                           "(`advisory run --save-model` 로 저장한 폴더)를 주세요")
        folder = Path(pinned["model_path"])
        if not folder.is_dir():
            raise InputError(str(folder), "보관소에 고정된 모델 폴더가 없습니다; --model DIR 을 주세요")
        sha = model_hash(folder)
        if sha != pinned["model_hash"]:
            raise InputError(str(folder), f"고정된 모델 폴더가 고정한 뒤에 바뀌었습니다 "
                                          f"({pinned['model_hash'][:12]} -> {sha[:12]}); 지금의 모델로 이 회차를 "
                                          "분류하려면 --model DIR 을 주세요")
        return folder, sha
    folder = Path(model_dir)
    sha = model_hash(folder)
    if pinned.get("model_hash") not in (None, sha):
        log.warning("%s: 보관소에 고정된 모델(%s, %s)이 아니지만 요청대로 이 모델로 이 회차를 분류합니다",
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
                refuse_existing(con, archive, round_name)
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
            raise InputError(str(archive), f"보관소에 {round_name!r} 회차가 없습니다 (`advisory archive list` 참고)")
        units = stored_units(con, round_name)
        inputs = con.execute("SELECT path, sha256, format, encoding FROM inputs WHERE round_name = ?",
                             [round_name]).df().to_dict("records")
        corrections = stored_corrections(con, round_name)
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
            raise InputError(str(archive), f"그 사이에 {round_name!r} 회차가 지워졌습니다")
        write_round(con, archive, stored, replace=True)
        con.execute("UPDATE rounds SET added_at = ?, recoded_at = ? WHERE round_name = ?", [
            added[0], dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0), round_name])
    return stored


