"""``advisory parse --out units.csv`` writes formula-safe cells, like every other CSV the pipeline writes."""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.cli import main


def test_parse_csv_cells_that_look_like_formulas_are_written_as_text(tmp_path: Path) -> None:
    round_file = tmp_path / "round.txt"
    round_file.write_text("□ 가나다 위원\n\nㅇ =HYPERLINK(\"http://x\",\"클릭\") 홍보 강화가 필요함\n", encoding="utf-8")
    out = tmp_path / "units.csv"
    assert main(["parse", str(round_file), "--out", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 1
    assert rows[0]["text"].startswith("'=HYPERLINK")
