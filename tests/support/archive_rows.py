"""What the archive's tests read of an archive file (one round's rows in every table, any query's rows), and an
archive made old again."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb

ROUND_2025 = Path(__file__).resolve().parents[1] / "fixtures" / "round_2025.txt"
ROUND_TABLES = ("rounds", "inputs", "units", "assignments", "corrections", "themes")


def round_rows(archive: Path, round_name: str) -> bytes:
    """Every row the round has in every table, as CSV bytes (what must not move)."""
    out = io.StringIO()
    con = duckdb.connect(str(archive), read_only=True)
    try:
        for table in ROUND_TABLES:
            frame = con.execute(f"SELECT * FROM {table} WHERE round_name = ? ORDER BY ALL", [round_name]).df()
            out.write(f"## {table}\n")
            frame.to_csv(out, index=False)
    finally:
        con.close()
    return out.getvalue().encode("utf-8")


def sql(archive: Path, query: str, params: list | None = None) -> list[tuple]:
    """The rows of ``query`` on the archive, opened read-only."""
    con = duckdb.connect(str(archive), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def as_version_1(archive: Path) -> None:
    """Make ``archive`` what schema version 1 wrote: no confidence per unit (runner-up, margin, review flag) and
    no coding record's columns in ``corrections``."""
    con = duckdb.connect(str(archive))
    try:
        for table in ("units", "assignments"):
            for column in ("theme_runner_up", "theme_margin", "needs_review"):
                con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for column in ("theme_label", "source", "time", "previous_theme_id"):
            con.execute(f"ALTER TABLE corrections DROP COLUMN {column}")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    finally:
        con.close()
