"""Interrupted and overlapping writes: a kill at any moment leaves the previous version complete, and
the next write removes the debris; two writers of one folder end with one clean message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.core.atomic import STAGING_MARK, Target, remove_debris, replacing
from pipeline.core.errors import InputError
from pipeline.core.options import RunOptions
from pipeline.workflow import run_round

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"

# A writer that stages a new version of argv[1], says where it is, then waits to be killed; with
# argv[2] == "after-commit" it waits after the swap instead, while the old version is being removed.
WRITER = """
import sys, time
from pathlib import Path
import pipeline.core.atomic as atomic
target, moment = Path(sys.argv[1]), sys.argv[2]
if moment == "after-commit":
    def slow_remove(path, _remove=atomic._remove):
        print("committed", flush=True)
        time.sleep(60)
        _remove(path)
    atomic._remove = slow_remove
with atomic.replacing([atomic.Target(target, "dir")]) as (staging,):
    (staging / "data.txt").write_text("new", encoding="utf-8")
    if moment == "staging":
        print("staged", flush=True)
        time.sleep(60)
"""


def _old_version(parent: Path) -> Path:
    target = parent / "run"
    target.mkdir()
    (target / "data.txt").write_text("old", encoding="utf-8")
    return target


def _debris(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if STAGING_MARK in p.name)


def _start_writer(target: Path, moment: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), moment], stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout.readline().strip() in ("staged", "committed")
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_staging_keeps_the_old_version_and_leaves_no_debris(tmp_path: Path, sig: int) -> None:
    target = _old_version(tmp_path)
    proc = _start_writer(target, "staging")
    assert _debris(tmp_path)  # the new version is being staged beside the target
    proc.send_signal(sig)
    assert proc.wait(timeout=30) != 0
    assert (target / "data.txt").read_text(encoding="utf-8") == "old"
    assert _debris(tmp_path) == []


@pytest.mark.parametrize("moment, expected", [("staging", "old"), ("after-commit", "new")])
def test_a_hard_kill_at_any_moment_leaves_a_complete_version_and_the_next_write_cleans_up(
        tmp_path: Path, moment: str, expected: str) -> None:
    target = _old_version(tmp_path)
    proc = _start_writer(target, moment)
    proc.kill()
    proc.wait(timeout=30)
    assert (target / "data.txt").read_text(encoding="utf-8") == expected
    assert len(_debris(tmp_path)) == 1  # SIGKILL cannot be caught: the staging folder stays ...
    with replacing([Target(target, "dir")]) as (staging,):
        (staging / "data.txt").write_text("next", encoding="utf-8")
    assert _debris(tmp_path) == []  # ... until the next write into the same folder
    assert (target / "data.txt").read_text(encoding="utf-8") == "next"


def test_debris_of_a_running_writer_is_left_alone(tmp_path: Path) -> None:
    target = _old_version(tmp_path)
    proc = _start_writer(target, "staging")
    try:
        assert remove_debris(tmp_path) == []
        assert len(_debris(tmp_path)) == 1
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_two_writers_of_one_folder_the_later_one_gets_one_line(tmp_path: Path) -> None:
    target = _old_version(tmp_path)
    with pytest.raises(InputError) as err:
        with replacing([Target(target, "dir")]) as (slow,):
            (slow / "data.txt").write_text("slow", encoding="utf-8")
            with replacing([Target(target, "dir")]) as (fast,):
                (fast / "data.txt").write_text("fast", encoding="utf-8")
    assert "다른 실행이 이 폴더에 썼습니다" in str(err.value) and "\n" not in str(err.value)
    assert (target / "data.txt").read_text(encoding="utf-8") == "fast"
    assert _debris(tmp_path) == []


def test_the_swap_has_no_moment_without_the_folder(tmp_path: Path) -> None:
    target = _old_version(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    loop = ("import sys\nfrom pathlib import Path\nfrom pipeline.core.atomic import Target, replacing\n"
            "for i in range(200):\n"
            "    with replacing([Target(Path(sys.argv[1]), 'dir')]) as (s,):\n"
            "        (s / 'data.txt').write_text(str(i))\n")
    proc = subprocess.Popen([sys.executable, "-c", loop, str(target)], env=env)
    missing = 0
    while proc.poll() is None:
        missing += not (target / "data.txt").exists()
    assert proc.returncode == 0
    assert missing == 0
    assert (target / "data.txt").read_text(encoding="utf-8") == "199"


def test_a_failed_run_writes_neither_run_folder_nor_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, model = tmp_path / "run", tmp_path / "model"
    out.mkdir()
    (out / "run.json").write_text("{}", encoding="utf-8")
    model.mkdir()
    (model / "model.json").write_text("{}", encoding="utf-8")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("heatmap exploded")

    monkeypatch.setattr("pipeline.runfolder.plots.heatmap", fail)
    with pytest.raises(RuntimeError, match="heatmap exploded"):
        run_round([SEED], out, RunOptions(embedder="tfidf", use_cache=False), use_codebook=False, save_model=model)
    assert [p.name for p in out.iterdir()] == ["run.json"]
    assert [p.name for p in model.iterdir()] == ["model.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "run"]


@pytest.mark.parametrize("what", ["--out", "--save-model"])
def test_run_refuses_a_folder_of_other_files_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              what: str) -> None:
    other = tmp_path / "thesis"
    other.mkdir()
    (other / "chapter1.docx").write_bytes(b"draft")
    argv = ["run", str(SEED), "--embedder", "tfidf", "--no-codebook", "--no-cache", "--quiet"]
    argv += ["--out", str(other)] if what == "--out" else ["--out", str(tmp_path / "run"), "--save-model", str(other)]
    started = time.perf_counter()
    assert main(argv) == 2
    assert time.perf_counter() - started < 5  # refused before reading, embedding or clustering
    message = capsys.readouterr().err.strip()
    assert message.startswith(f"오류: {other}") and "\n" not in message
    assert [p.name for p in other.iterdir()] == ["chapter1.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_parse_out_file_is_replaced_whole_and_readable(tmp_path: Path) -> None:
    out = tmp_path / "units.csv"
    out.write_text("old", encoding="utf-8")
    assert main(["parse", str(SEED), "--out", str(out), "--quiet"]) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("rec_id,")
    assert out.stat().st_mode & 0o044 == 0o044  # readable like any other file, not 0600
    # The bundled round's title line is in no unit, so its list is written beside: no staging debris left.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.csv", "units.unplaced.csv"]


def test_sigterm_during_a_real_run_keeps_the_previous_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # Codebook mode with tfidf: the run writes the same folder as any other, without UMAP's compile in each process.
    argv = [sys.executable, "-m", "pipeline.cli", "run", str(SEED), "--embedder", "tfidf", "--no-cache", "--quiet",
            "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(argv, env=env, check=True, timeout=300)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for delay in (0.0, 1.0):
        proc = subprocess.Popen(argv, env=env)
        deadline = time.monotonic() + 120
        while not _debris(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert _debris(tmp_path) == []


def test_one_folder_rule_for_every_kind_of_folder(tmp_path: Path) -> None:
    """Run folders, saved models and trend folders follow one rule: empty (a placeholder aside) or an earlier
    folder of the kind holding nothing the pipeline does not write; a refused folder is left untouched."""
    from pipeline.archive.trends import TRENDS_FOLDER
    from pipeline.runfolder.folder import RUN_FOLDER
    from pipeline.themes.store import MODEL_FOLDER

    folder = tmp_path / "f"
    folder.mkdir()
    (folder / ".gitkeep").write_text("", encoding="utf-8")
    assert RUN_FOLDER.refusal(folder) is None and not RUN_FOLDER.holds(folder)
    assert MODEL_FOLDER.refusal(folder) is not None  # only a run folder's placeholder counts as empty
    (folder / "run.json").write_text("{}", encoding="utf-8")
    assert RUN_FOLDER.holds(folder) and "model.json" in MODEL_FOLDER.refusal(folder)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    assert "'notes.txt'" in RUN_FOLDER.refusal(folder) and not RUN_FOLDER.holds(folder)
    (folder / "theme_by_round.csv").write_text("", encoding="utf-8")
    assert TRENDS_FOLDER.refusal(folder) is None  # a trends folder names no list of files
    with pytest.raises(InputError, match="notes.txt"), replacing([RUN_FOLDER.target(folder)]):
        pass
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
