"""The archive's DuckDB file: its schema, version checks and upgrade, a locked, checked connection and one
transaction helper.

The round tables' columns are the run folder's (:mod:`pipeline.runfolder.schema`). :mod:`pipeline.archive.store`
writes and reads rounds through :func:`open_archive` and :func:`transaction` (the trend tables read through
it too); nothing else in the package opens the file directly.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from pipeline.core.errors import InputError, one_line
from pipeline.runfolder.schema import (
    REVIEW_COLUMNS,
    STORED_ASSIGNMENT_COLUMNS,
    STORED_RECORD_COLUMNS,
    STORED_UNIT_COLUMNS,
    THEME_COLUMNS,
)

SCHEMA_VERSION = 3
DEFAULT_WAIT = 60.0
TABLES: tuple[str, ...] = ("meta", "rounds", "inputs", "models", "units", "assignments", "corrections", "themes")
# The types of the columns of the round tables that are not VARCHAR; their names come from the run folder's schema.
_TYPES = {"member": "INTEGER", "line_start": "INTEGER", "line_end": "INTEGER", "seq": "INTEGER", "line": "INTEGER",
          "size": "INTEGER", "theme_score": "DOUBLE", "theme_margin": "DOUBLE", "needs_review": "BOOLEAN"}


def _typed(columns: Sequence[str], required: Sequence[str] = ()) -> str:
    """``name TYPE[ NOT NULL], …`` of ``columns`` for a CREATE or ALTER statement."""
    return ", ".join(f"{c} {_TYPES.get(c, 'VARCHAR')}{' NOT NULL' if c in required else ''}" for c in columns)


SCHEMA = f"""
CREATE TABLE meta(key VARCHAR NOT NULL, value VARCHAR NOT NULL);
CREATE TABLE rounds(round_name VARCHAR NOT NULL, round_date DATE, position INTEGER NOT NULL,
    n_units INTEGER NOT NULL, n_corrected INTEGER NOT NULL, model_hash VARCHAR NOT NULL, model_path VARCHAR NOT NULL,
    corrections_path VARCHAR, corrections_sha256 VARCHAR, added_at TIMESTAMP NOT NULL, recoded_at TIMESTAMP,
    package_version VARCHAR, timings VARCHAR NOT NULL);
CREATE TABLE inputs(round_name VARCHAR NOT NULL, path VARCHAR, sha256 VARCHAR, format VARCHAR, encoding VARCHAR);
CREATE TABLE models(model_hash VARCHAR NOT NULL, model_path VARCHAR NOT NULL, embedder VARCHAR,
    embedder_model_id VARCHAR, themes VARCHAR NOT NULL);
CREATE TABLE units({_typed(("round_name", *STORED_UNIT_COLUMNS), ("round_name", "rec_id", "seq"))});
CREATE TABLE assignments({_typed(("round_name", *STORED_ASSIGNMENT_COLUMNS), ("round_name", "rec_id"))});
CREATE TABLE corrections({_typed(("round_name", *STORED_RECORD_COLUMNS), ("round_name", "rec_id", "theme_id"))});
CREATE TABLE themes({_typed(("round_name", *THEME_COLUMNS), ("round_name",))});
"""
# Version 1 archives lack each unit's confidence; it was added at the end of both tables so old rows keep
# their values and get NULL there. Version 2 archives lack the coding record's columns of a correction.
_CONFIDENCE = _typed(REVIEW_COLUMNS)
_RECORD = _typed(STORED_RECORD_COLUMNS[STORED_RECORD_COLUMNS.index("theme_label"):])
# Tables holding one round's rows, each keyed by round_name.
ROUND_TABLES = ("rounds", "inputs", "units", "assignments", "corrections", "themes")


def package_version() -> str:
    try:
        return metadata.version("advisory-themes")
    except metadata.PackageNotFoundError:
        return "unknown"


# DuckDB loads, and downloads, an extension for a file it recognises as another format (a SQLite file
# given as the archive): an archive is one DuckDB file, so nothing is loaded or fetched.
_CONFIG = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}
_LOCK_CONFLICT = "Could not set lock on file"


def check_wait(wait: float) -> float:
    """``wait`` as a number of seconds (finite, >= 0); ``ValueError`` otherwise (``nan`` would wait forever)."""
    if not (isinstance(wait, int | float) and math.isfinite(wait) and wait >= 0):
        raise ValueError(f"wait must be a finite number of seconds >= 0, got {wait!r}")
    return float(wait)


def _in_use(path: Path, wait: float) -> InputError:
    return InputError(str(path), f"다른 프로세스가 보관소를 쓰고 있습니다 ({wait:g}초 기다림); "
                                 "그 작업이 끝난 뒤 다시 하세요")


def _connect(path: Path, read_only: bool, wait: float, deadline: float):
    """A DuckDB connection, retrying while another process holds the file's lock."""
    import duckdb

    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(_CONFIG))
        except duckdb.ConnectionException as err:
            if "different configuration" not in str(err):
                raise InputError(str(path), f"읽을 수 있는 DuckDB 보관소가 아닙니다 ({one_line(err)})") from err
            return _shared(path, read_only)
        except duckdb.Error as err:
            # The file's path, which DuckDB quotes, may itself contain "lock".
            if _LOCK_CONFLICT not in str(err).replace(str(path), ""):
                raise InputError(str(path), f"읽을 수 있는 DuckDB 보관소가 아닙니다 ({one_line(err)})") from err
            if time.monotonic() >= deadline:
                raise _in_use(path, wait) from err
            time.sleep(0.2)


def _shared(path: Path, read_only: bool):
    """A connection to a file this process has open already (a notebook's own ``duckdb.connect``): DuckDB
    shares that database, which refuses other settings at connect time, so they are set on it here."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=read_only)
        for name, value in _CONFIG.items():
            con.execute(f"SET {name} = {str(value).lower()}")
    except duckdb.Error as err:
        raise InputError(str(path), f"이 프로세스가 보관소를 다른 방식으로 열어 두었습니다 ({one_line(err)})") from err
    return con


@lru_cache(maxsize=1)
def _columns_written() -> dict[str, tuple[tuple[str, str], ...]]:
    """Each table's (column, type) in the order :data:`SCHEMA` creates them (read from an in-memory database)."""
    import duckdb

    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    try:
        con.execute(SCHEMA)
        return _columns(con)
    finally:
        con.close()


def column_names(con, table: str) -> set[str]:
    """The columns ``table`` of an open archive has (a file of an older schema opened read-only has fewer)."""
    return {name for name, _ in _columns(con).get(table, ())}


def _columns(con) -> dict[str, tuple[tuple[str, str], ...]]:
    """The (column, type) of each table of the archive; a view is not a table (one may read a URL)."""
    rows = con.execute("SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
                       "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
                       "WHERE c.table_schema = 'main' AND t.table_type = 'BASE TABLE' "
                       "ORDER BY c.table_name, c.ordinal_position").fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, kind))
    return {table: tuple(columns) for table, columns in tables.items()}


def _check_schema(con, path: Path) -> int:
    """The archive's schema version, its tables checked against what this version writes; InputError otherwise."""
    found = _columns(con)
    if not found:
        raise InputError(str(path), "아직 advisory 보관소가 아닙니다: 표가 없습니다 (끝나지 못한 첫 "
                                    "`advisory archive add` 가 남긴 파일이며, 다음 add가 준비합니다)")
    if "meta" not in found:
        raise InputError(str(path), "advisory 보관소가 아닙니다 (meta 표 없음)")
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else None
    if version is None:
        raise InputError(str(path), "advisory 보관소가 아닙니다 (meta에 schema_version 없음)")
    if version > SCHEMA_VERSION:
        raise InputError(str(path), f"보관소 스키마 버전 {version}은(는) 이 advisory-themes가 읽는 버전"
                                    f"({SCHEMA_VERSION})보다 새롭습니다; advisory-themes를 업그레이드하세요")
    if version < 1:
        raise InputError(str(path), f"보관소 스키마 버전 {version}은(는) {SCHEMA_VERSION}보다 오래되어 "
                                    "업그레이드할 수 없습니다")
    # Columns later versions added: an older file lacks them until its first write upgrades it.
    confidence = {column.split()[0] for column in _CONFIDENCE.split(", ")}
    record = {column.split()[0] for column in _RECORD.split(", ")}
    for table, expected in _columns_written().items():
        if version == 1 and table in ("units", "assignments"):
            expected = tuple(c for c in expected if c[0] not in confidence)
        if version < 3 and table == "corrections":
            expected = tuple(c for c in expected if c[0] not in record)
        got = found.get(table, ())
        if got != expected:
            missing = [name for name, kind in expected if (name, kind) not in got]
            extra = [name for name, kind in got if (name, kind) not in expected]
            detail = "표가 없음" if not got else ", ".join(
                part for part in (missing and f"{', '.join(missing)} 열이 없음",
                                  extra and f"{', '.join(extra)} 열이 있음") if part) or "열의 순서가 다름"
            raise InputError(str(path), f"{table} 표가 advisory-themes가 쓰는 형태가 아닙니다 ({detail}): "
                                        "보관소를 손으로 고친 것 같습니다; 사본으로 되돌리세요")
    return version


@contextmanager
def transaction(con) -> Iterator:
    """One transaction on the archive's connection ``con``: committed when the ``with`` block ends, rolled back
    when anything in it (the commit included) fails, so a failed write leaves every table as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _upgrade(con, version: int) -> None:
    """Bring a version-1 or -2 archive to the current schema in one transaction."""
    added = [(t, c) for t in ("units", "assignments") for c in _CONFIDENCE.split(", ")] if version < 2 else []
    added += [("corrections", c) for c in _RECORD.split(", ")]
    with transaction(con):
        for table, column in added:
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])


def _create_tables(con) -> None:
    with transaction(con):
        con.execute(SCHEMA)
        con.executemany("INSERT INTO meta VALUES (?, ?)", [
            ["schema_version", str(SCHEMA_VERSION)], ["created_with", package_version()]])


@contextmanager
def _writers_lock(path: Path, wait: float, deadline: float) -> Iterator[None]:
    """Held by every process writing the archive, from before it looks for the file until after it is closed.

    DuckDB's own lock lives in the database file, so it cannot say who creates a missing file, nor keep
    another writer out while a failed first add removes the file it made. This lock is a file beside the
    archive (``FILE.lock``, left in place; :mod:`filelock` works on Linux, macOS and Windows).
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=max(deadline - time.monotonic(), 0.0), poll_interval=0.2)
    except Timeout as err:
        raise _in_use(path, wait) from err
    except OSError as err:
        raise InputError(str(path), f"쓰기 위해 보관소를 잠글 수 없습니다 ({one_line(err)})") from err
    try:
        yield
    finally:
        lock.release()


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


@contextmanager
def _checked(con, path: Path) -> Iterator:
    """The connection for the ``with`` block; any DuckDB error in it (a damaged file: "Corrupt database
    file") becomes one line naming the archive, and the connection is closed."""
    import duckdb

    try:
        yield con
    except duckdb.Error as err:
        raise InputError(str(path), f"보관소가 손상되었거나 읽을 수 없습니다 ({one_line(err)})") from err
    finally:
        con.close()


@contextmanager
def open_archive(path: str | os.PathLike, *, read_only: bool = True, create: bool = False,
                 wait: float = DEFAULT_WAIT) -> Iterator:
    """A checked DuckDB connection to the archive at ``path``, closed when the ``with`` block ends.

    ``create`` (with ``read_only=False``): make a new archive (schema and ``meta``) where there is no file,
    or where a first add was killed before it committed anything (a file with no tables, or an empty
    file). Writers hold the archive's lock file from before they look for the archive until they have
    closed it, so of two first adds one creates the file and the other adds to it; when the ``with``
    block fails, a file this call created is removed, and no other. Raises ``InputError`` for a missing
    file, a file that is not an archive, a damaged one or one whose tables were edited, a newer schema,
    or a lock held past ``wait`` seconds.
    """
    path = Path(path)
    wait = check_wait(wait)
    deadline = time.monotonic() + wait
    if read_only:
        if not path.exists():
            raise InputError(str(path), "여기에 보관소가 없습니다; `advisory archive add` 로 만드세요")
        with _checked(_connect(path, True, wait, deadline), path) as con:
            _check_schema(con, path)
            yield con
        return
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    with _writers_lock(path, wait, deadline):
        if create and path.is_file() and path.stat().st_size == 0:
            path.unlink()  # DuckDB refuses an empty file; a first add killed as it made the file leaves one
        created = not path.exists()
        if created and not create:
            raise InputError(str(path), "여기에 보관소가 없습니다; `advisory archive add` 로 만드세요")
        try:
            with _checked(_connect(path, False, wait, deadline), path) as con:
                if create and not _columns(con):
                    _create_tables(con)
                version = _check_schema(con, path)
                if version < SCHEMA_VERSION:
                    _upgrade(con, version)
                yield con
        except BaseException:
            if created:
                _remove(path)
            raise


def open_if_any(path: str | os.PathLike, *, wait: float = DEFAULT_WAIT):
    """A read-only connection as :func:`open_archive` gives, or ``nullcontext(None)`` where a first add
    would create the archive: no file, an empty one, or one with no tables (a first add killed)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0 or not _has_tables(path, wait):
        return nullcontext(None)
    return open_archive(path, wait=wait)


def _has_tables(path: Path, wait: float) -> bool:
    with _checked(_connect(path, True, wait, time.monotonic() + check_wait(wait)), path) as con:
        return bool(_columns(con))


def read_meta(con) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())
