"""Browsing a run folder from a notebook: load, filter, read a theme card."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.runfolder.folder import write_run
from pipeline.study.browse import filter_units, load_run, quotes, theme_card
from tests.support.sample_run import sample_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    return load_run(write_run(tmp_path_factory.mktemp("runs") / "2024", *sample_run("a")))


def test_load_run_reads_every_table(run) -> None:
    assert len(run.recommendations) == 12
    assert "branding" in set(run.themes["theme_id"])
    assert run.matrix.shape[0] == len(run.themes) + 1  # + the unassigned row
    assert run.info["counts"]["units"] == 12
    assert run.heatmap.is_file()


def test_filters_narrow_the_units(run) -> None:
    recs = run.recommendations
    nl = filter_units(recs, program="NL")
    assert len(nl) > 0 and all("NL" in c.split(";") for c in nl["program_codes"])
    both = filter_units(recs, program="NL", member=2)
    assert 0 < len(both) < len(nl) and set(both["member"]) == {"2"}
    assert len(filter_units(recs, theme="branding")) == len(filter_units(recs, theme="브랜딩·홍보·소통"))
    assert all("상생상회" in t for t in filter_units(recs, text="상생상회")["text"])
    # "1-2-1" must not match "1-2-10" or "11-2-1": codes are compared whole
    assert all("1-2-1" in c.split(";") for c in filter_units(recs, program="1-2-1")["program_codes"])


def test_theme_card(run) -> None:
    card = theme_card(run, "living_population")
    assert card == theme_card(run, "생활인구·체류")
    assert card.size == 2 and card.members == (2, 3)
    assert card.program_counts == (("1-2-1", 1), ("1-10-1", 1))
    texts = quotes(run, card)
    assert len(texts) == 2 and all(t in set(run.recommendations["text"]) for t in texts)
    with pytest.raises(KeyError):
        theme_card(run, "no_such_theme")


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="결과 폴더가 아닙니다"):
        load_run(tmp_path)


def test_find_folder_looks_in_the_working_folder_and_its_parents(tmp_path, monkeypatch) -> None:
    from pipeline.study.browse import find_folder

    (tmp_path / "outputs").mkdir()
    deep = tmp_path / "notebooks" / "drafts"
    deep.mkdir(parents=True)
    monkeypatch.delenv("ADVISORY_RUN", raising=False)
    assert find_folder("outputs", env="ADVISORY_RUN", start=deep) == tmp_path / "outputs"
    # A folder not there yet (a results folder to write) is placed in the working folder.
    assert find_folder("outputs/new_round", start=deep) == tmp_path / "outputs" / "new_round"
    assert find_folder("missing", start=deep) == deep / "missing"
    monkeypatch.setenv("ADVISORY_RUN", str(tmp_path / "elsewhere"))
    assert find_folder("outputs", env="ADVISORY_RUN", start=deep) == tmp_path / "elsewhere"
