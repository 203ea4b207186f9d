"""The archive's DuckDB file: its schema, version checks and upgrade, and a locked, checked connection.

``pipeline.archive.rounds`` stores and reads rounds through :func:`open_archive`; nothing else in the
package opens the file directly.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from pipeline.core.errors import InputError

SCHEMA_VERSION = 3
DEFAULT_WAIT = 60.0
TABLES: tuple[str, ...] = ("meta", "rounds", "inputs", "models", "units", "assignments", "corrections", "themes")
SCHEMA = """
CREATE TABLE meta(key VARCHAR NOT NULL, value VARCHAR NOT NULL);
CREATE TABLE rounds(round_name VARCHAR NOT NULL, round_date DATE, position INTEGER NOT NULL,
    n_units INTEGER NOT NULL, n_corrected INTEGER NOT NULL, model_hash VARCHAR NOT NULL, model_path VARCHAR NOT NULL,
    corrections_path VARCHAR, corrections_sha256 VARCHAR, added_at TIMESTAMP NOT NULL, recoded_at TIMESTAMP,
    package_version VARCHAR, timings VARCHAR NOT NULL);
CREATE TABLE inputs(round_name VARCHAR NOT NULL, path VARCHAR, sha256 VARCHAR, format VARCHAR, encoding VARCHAR);
CREATE TABLE models(model_hash VARCHAR NOT NULL, model_path VARCHAR NOT NULL, embedder VARCHAR,
    embedder_model_id VARCHAR, themes VARCHAR NOT NULL);
CREATE TABLE units(round_name VARCHAR NOT NULL, rec_id VARCHAR NOT NULL, round VARCHAR, source VARCHAR,
    member INTEGER, agenda VARCHAR, question VARCHAR, text VARCHAR, theme_id VARCHAR, theme_label VARCHAR,
    theme_score DOUBLE, theme_source VARCHAR, program_codes VARCHAR, code_sources VARCHAR, fields VARCHAR,
    line_start INTEGER, line_end INTEGER, member_label VARCHAR, tags VARCHAR, unknown_codes VARCHAR, lead VARCHAR,
    seq INTEGER NOT NULL, theme_runner_up VARCHAR, theme_margin DOUBLE, needs_review BOOLEAN);
CREATE TABLE assignments(round_name VARCHAR NOT NULL, rec_id VARCHAR NOT NULL, theme_id VARCHAR,
    theme_label VARCHAR, theme_score DOUBLE, theme_source VARCHAR, theme_runner_up VARCHAR, theme_margin DOUBLE,
    needs_review BOOLEAN);
CREATE TABLE corrections(round_name VARCHAR NOT NULL, rec_id VARCHAR NOT NULL, theme_id VARCHAR NOT NULL,
    note VARCHAR, line INTEGER, theme_label VARCHAR, source VARCHAR, time VARCHAR, previous_theme_id VARCHAR);
CREATE TABLE themes(round_name VARCHAR NOT NULL, theme_id VARCHAR, theme_label VARCHAR, theme_source VARCHAR,
    size INTEGER, keywords VARCHAR, representative_rec_ids VARCHAR, program_codes VARCHAR, members VARCHAR);
"""
# Version 1 archives lack each unit's confidence; it was added at the end of both tables so old rows keep
# their values and get NULL there. Version 2 archives lack the coding record's columns of a correction.
_CONFIDENCE = "theme_runner_up VARCHAR, theme_margin DOUBLE, needs_review BOOLEAN"
_RECORD = "theme_label VARCHAR, source VARCHAR, time VARCHAR, previous_theme_id VARCHAR"
# Tables holding one round's rows, each keyed by round_name.
ROUND_TABLES = ("rounds", "inputs", "units", "assignments", "corrections", "themes")


def package_version() -> str:
    try:
        return metadata.version("advisory-themes")
    except metadata.PackageNotFoundError:
        return "unknown"


def _connect(path: Path, read_only: bool, wait: float):
    """A DuckDB connection, retrying while another process holds the file's lock."""
    import duckdb

    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise InputError(str(path), f"not a readable DuckDB archive ({err})") from err
            if time.monotonic() >= deadline:
                raise InputError(str(path), f"the archive is in use by another process (waited {wait:g} s); "
                                            "try again when it has finished") from err
            time.sleep(0.2)


def _check_schema(con, path: Path) -> int:
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "meta" not in tables:
        raise InputError(str(path), "not an advisory archive (no meta table)")
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else None
    if version is None:
        raise InputError(str(path), "not an advisory archive (no schema_version in meta)")
    if version > SCHEMA_VERSION:
        raise InputError(str(path), f"archive schema version {version} is newer than this advisory-themes reads "
                                    f"({SCHEMA_VERSION}); upgrade advisory-themes to open it")
    if version < 1:
        raise InputError(str(path), f"archive schema version {version} is older than {SCHEMA_VERSION} "
                                    "and cannot be upgraded")
    return version


def _upgrade(con, version: int) -> None:
    """Bring a version-1 or -2 archive to the current schema in one transaction."""
    con.execute("BEGIN TRANSACTION")
    added = [(t, c) for t in ("units", "assignments") for c in _CONFIDENCE.split(", ")] if version < 2 else []
    added += [("corrections", c) for c in _RECORD.split(", ")]
    for table, column in added:
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
    con.execute("COMMIT")


@contextmanager
def open_archive(path: str | os.PathLike, *, read_only: bool = True, create: bool = False,
                 wait: float = DEFAULT_WAIT) -> Iterator:
    """A checked DuckDB connection to the archive at ``path``, closed when the ``with`` block ends.

    ``create``: make a new archive (schema and ``meta``) where there is no file. Raises
    ``InputError`` for a missing file, a file that is not an archive, a newer schema, or a lock
    held past ``wait`` seconds.
    """
    path = Path(path)
    new = not path.exists()
    if new and not create:
        raise InputError(str(path), "no archive here; create one with `advisory archive add`")
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=read_only and not new, wait=wait)
    try:
        # Checked under the lock: another process may have created the file since `new` was computed.
        if create and not con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]:
            con.execute("BEGIN TRANSACTION")
            con.execute(SCHEMA)
            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ["schema_version", str(SCHEMA_VERSION)], ["created_with", package_version()]])
            con.execute("COMMIT")
        version = _check_schema(con, path)
        if version < SCHEMA_VERSION and not read_only:
            _upgrade(con, version)
        yield con
    finally:
        con.close()


def read_meta(con) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())
