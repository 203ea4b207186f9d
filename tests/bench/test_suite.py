"""bench/ stays a suite: every study imports, none edits sys.path or imports another study, the README's
tables are what bench/results gives, and the shared library measures and renders what it says."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bench
from bench import report
from bench.lib.paths import BENCH, README, RESULTS
from bench.lib.results import block, dumps, load, load_all, save
from bench.lib.runner import run_child
from bench.lib.stamp import make_stamp, render_stamp
from bench.lib.tables import Column, cell, figure, render_block, table, text

GROUPS = ("bench.speed", "bench.safety", "bench.quality")


def _modules() -> dict[str, Path]:
    return {m.name: Path(importlib.util.find_spec(m.name).origin)
            for m in pkgutil.walk_packages(bench.__path__, "bench.")}


def _studies() -> list[str]:
    return sorted(name for name in _modules() if name.startswith(tuple(f"{g}." for g in GROUPS)))


def test_every_study_imports_and_has_a_command_line() -> None:
    studies = _studies()
    assert {name.rsplit(".", 1)[0] for name in studies} == set(GROUPS)
    for name in studies:
        assert callable(importlib.import_module(name).main), name


def test_result_files_cannot_collide() -> None:
    # bench/results/<study>.json is named by the module's last part.
    leaves = [name.rsplit(".", 1)[1] for name in _studies()]
    assert len(leaves) == len(set(leaves))


def sys_path_edits(source: str) -> list[int]:
    """Lines that touch ``sys.path`` (insert, append, assign: any use of the attribute)."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and node.attr == "path"
            and isinstance(node.value, ast.Name) and node.value.id == "sys"]


def bench_imports(source: str) -> set[str]:
    """The ``bench.*`` modules a source imports (at any depth, in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bench":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "bench"}
    return found


def test_the_checks_find_what_they_look_for() -> None:
    assert sys_path_edits("import sys\nx = 1\nsys.path.insert(0, 'bench')\n") == [3]
    assert bench_imports("def f():\n    from bench.speed.parse import main\n") == {"bench.speed.parse"}


def test_no_bench_module_edits_sys_path() -> None:
    edits = {name: lines for name, path in _modules().items() if (lines := sys_path_edits(path.read_text("utf-8")))}
    assert edits == {}


def test_studies_share_code_through_bench_lib_only() -> None:
    wrong = {name: sorted(m for m in bench_imports(path.read_text("utf-8")) if not m.startswith("bench.lib"))
             for name, path in _modules().items() if name in _studies()}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_readme_tables_are_what_the_result_files_give() -> None:
    committed = README.read_text(encoding="utf-8")
    assert report.regenerate(committed, load_all()) == committed, "run `python -m bench.report`"
    assert report.main(["--check"]) == 0
    # Every result file holds blocks, and every block is in the README (none would be appended).
    assert all(load(path)["blocks"] for path in RESULTS.glob("*.json"))
    assert all(f"<!-- bench:{name} -->" in committed for name in load_all())


def test_a_table_edited_by_hand_is_rewritten_and_check_fails(tmp_path: Path) -> None:
    committed = README.read_text(encoding="utf-8")
    edited = committed.replace("| 10,000 | 0.25 | 0.80 | 8.75 |", "| 10,000 | 0.25 | 0.80 | 7.75 |", 1)
    assert edited != committed
    assert report.regenerate(edited, load_all()) == committed
    readme = tmp_path / "README.md"
    readme.write_text(edited, encoding="utf-8")
    assert report.main(["--check", "--readme", str(readme)]) == 1


def test_a_marker_without_a_result_is_an_error() -> None:
    with pytest.raises(SystemExit, match="no-such-block"):
        report.regenerate("<!-- bench:no-such-block -->\nold\n<!-- /bench:no-such-block -->\n", {})


STAMP = {"datetime": "2026-11-26T10:49:00+00:00",
         "machine_info": {"cpu": "AMD EPYC", "cores": 2, "memory_gb": 24, "system": "Linux 6", "python": "3.11.7"},
         "commit_info": {"id": "abc1234", "uncommitted": ["pipeline/x.py"]}, "command": "python -m bench.speed.parse"}


def test_tables_are_written_from_numbers_by_their_formats() -> None:
    grid = table([Column("run"), figure("wall s", "{:.1f}"), figure("new / cached", "{} / {}"),
                  figure("share", "{:.0%}")],
                 [["first", 696.31, [9864, 226], 0.033], ["again", "failed (timeout)", None, cell(0.5, "{:.2f}")]])
    made = block("Title", STAMP, [grid, text("Goal: <= 1.3.")])
    expected = ("### Title\n\n2026-11-26 10:49 UTC; AMD EPYC, 2 cores, 24 GB RAM, Linux 6, Python 3.11.7; "
                "code abc1234 + uncommitted pipeline/x.py.\n`python -m bench.speed.parse`\n\n"
                "| run | wall s | new / cached | share |\n|---|---:|---:|---:|\n"
                "| first | 696.3 | 9864 / 226 | 3% |\n| again | failed (timeout) | | 0.50 |\n\nGoal: <= 1.3.")
    assert render_block(made) == expected
    # The JSON keeps the figures as numbers and renders the same after a round trip.
    again = json.loads(dumps(made))
    assert again["body"][0]["table"]["rows"][0] == ["first", 696.31, [9864, 226], 0.033]
    assert render_block(again) == expected
    assert render_block({**again, "header": False}) == expected.split("\n\n", 2)[2]
    with pytest.raises(ValueError, match="2 cells"):
        table([Column("a")], [["x", "y"]])


def test_saving_a_block_keeps_the_others(tmp_path: Path) -> None:
    first = block("A", STAMP, [text("one")])
    save("bench.speed.parse", {"a": first, "b": first}, tmp_path)
    save("bench.speed.parse", {"b": block("B", STAMP, [text("two")])}, tmp_path)
    saved = load(tmp_path / "parse.json")
    assert saved["study"] == "bench.speed.parse"
    assert list(saved["blocks"]) == ["a", "b"] and saved["blocks"]["b"]["title"] == "B"


def test_a_stamp_names_the_commit_and_the_command() -> None:
    stamp = make_stamp("python -m bench.speed.parse 1000")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True, text=True).stdout
    assert stamp["commit_info"]["id"] == head.strip()
    assert not any(path.startswith("bench/results/") for path in stamp["commit_info"]["uncommitted"])
    assert render_stamp(stamp).endswith("\n`python -m bench.speed.parse 1000`")


def test_a_child_is_measured_alone_and_a_runaway_is_stopped(tmp_path: Path) -> None:
    done = run_child([sys.executable, "-c", "print('done')"], tmp_path / "ok.log", timeout_s=60, mem_limit_gb=4)
    assert done.ok and done.last_line() == "done" and done.wall_s > 0 and done.peak_rss_mb > 1
    # 400 MB written (so resident), then idle: the watchdog stops it at its 0.1 GB limit, long before the timeout.
    hog = "import time; b = b'x' * (400 * 2**20); time.sleep(60)"
    stopped = run_child([sys.executable, "-c", hog], tmp_path / "hog.log", timeout_s=60, mem_limit_gb=0.1)
    assert not stopped.ok and stopped.stopped == "memory" and stopped.failure() == "failed (memory)"
    assert stopped.wall_s < 30
