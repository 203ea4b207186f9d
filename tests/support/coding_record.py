"""What the coding record's tests share: the codebook themes a row may name, and a corrections file written as given."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.records import ThemeInfo

THEMES = [ThemeInfo("branding", "브랜딩·홍보·소통", "codebook"), ThemeInfo("sales_channels", "판로·유통", "codebook"),
          ThemeInfo("performance_evaluation", "성과평가·지표", "codebook")]


def write_record(tmp_path: Path, text: str, name: str = "corrections.csv", bom: bool = False) -> Path:
    """``text`` written to ``tmp_path / name`` as UTF-8 (with a BOM when ``bom``)."""
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path
