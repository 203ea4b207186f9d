"""Tiny and degenerate rounds: discovery degrades to one theme or unassigned, never a traceback (issue 13, item 6)."""

from __future__ import annotations

import csv

import pytest

from pipeline.cli import main

ROUNDS = {
    # Every unit is the one term 상생상회: a one-term vocabulary crashed BERTopic's c-TF-IDF.
    "one_term": "□ 홍길동 위원\n" + "ㅇ 상생상회\n" * 25,
    "identical": "□ 홍길동 위원\n" + "ㅇ 상생상회 운영을 개선하고 청년 창업 지원을 늘려야 합니다.\n" * 25,
    "one_unit": "□ 홍길동 위원\nㅇ 상생상회 운영을 개선해야 합니다.\n",
    "two_units": "□ 홍길동 위원\nㅇ 상생상회 운영을 개선해야 합니다.\nㅇ 청년 창업 지원을 늘려야 합니다.\n",
}


def _themes(run_dir):
    with open(run_dir / "recommendations.csv", encoding="utf-8-sig", newline="") as fh:
        return [row["theme_id"] for row in csv.DictReader(fh)]


@pytest.mark.parametrize("name", sorted(ROUNDS))
def test_discovery_on_a_degenerate_round_gives_one_theme_or_unassigned(tmp_path, name):
    path = tmp_path / f"{name}.txt"
    path.write_text(ROUNDS[name], encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--no-codebook", "--embedder", "tfidf", "--no-cache", "--quiet",
                 "--out", str(out)]) == 0
    themes = _themes(out)
    assert len(themes) == ROUNDS[name].count("ㅇ ")
    discovered = set(themes) - {"unassigned"}
    assert len(discovered) <= 1
    if name in ("one_term", "identical"):
        # Identical units are one theme, not split apart by UMAP's layout.
        assert discovered == {"discovered_01"}


@pytest.mark.parametrize("name", ["one_term", "identical"])
def test_codebook_run_and_assign_on_a_degenerate_round(tmp_path, name):
    path = tmp_path / f"{name}.txt"
    path.write_text(ROUNDS[name], encoding="utf-8")
    model = tmp_path / "model"
    assert main(["run", str(path), "--no-codebook", "--out", str(tmp_path / "run"), "--no-cache", "--quiet",
                 "--save-model", str(model)]) == 0
    assert main(["assign", str(path), "--model", str(model), "--out", str(tmp_path / "assigned"),
                 "--no-cache", "--quiet"]) == 0
    assert set(_themes(tmp_path / "assigned")) == {"discovered_01"}
    assert main(["run", str(path), "--embedder", "tfidf", "--out", str(tmp_path / "codebook"), "--no-cache",
                 "--quiet"]) == 0
    assert len(_themes(tmp_path / "codebook")) == 25
