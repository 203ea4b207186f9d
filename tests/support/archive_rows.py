"""What the archive's tests read of an archive file: one round's rows in every table, and any query's rows."""

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
