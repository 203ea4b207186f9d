"""The command line as a researcher meets it: Korean help with examples, --version, progress on stderr."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import __version__
from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ["parse", "run", "assign", "evaluate", "compare", "export-qdpx", "import-qdpx", "codebook", "archive"]
HANGUL = re.compile(r"[가-힣]")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_is_korean_and_lists_subcommands_in_workflow_order(
        capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)
    assert text.startswith("사용법: advisory") and "옵션:" in text and "``" not in text
    assert "show this help" not in text
    listed = re.findall(r"^    (\S+)\s", text, flags=re.M)
    assert listed == WORKFLOW


@pytest.mark.parametrize("path", [[name] for name in WORKFLOW] + [["archive", name] for name in
                                                                   ("add", "list", "remove", "recode", "trends",
                                                                    "export")] + [["codebook", "promote"]])
def test_every_subcommand_has_korean_help_and_examples(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, *path)
    assert "``" not in text and "show this help" not in text
    examples = text.split("\n예:\n", 1)
    assert len(examples) == 2, "no examples after the options"
    assert f"advisory {' '.join(path)}" in examples[1]
    for line in text.splitlines():
        # every option's help is Korean; the option names themselves stay English
        if line.startswith("  --") and "  " in line.strip():
            assert HANGUL.search(line), line


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"advisory {__version__}"


@pytest.mark.parametrize(("argv", "says"), [
    (["run", "--bogus"], "advisory: 오류: 알 수 없는 인자입니다: --bogus"),
    (["frob"], "advisory: 오류: <명령>: 고를 수 없는 값 'frob' (고를 수 있는 값: 'parse', "),
    (["archive", "add"], "advisory archive add: 오류: 꼭 필요한 인자가 빠졌습니다: --archive, --round-name"),
    (["run", "--embedder"], "advisory run: 오류: --embedder: 값이 하나 필요합니다"),
])
def test_a_usage_mistake_is_one_korean_line_after_the_usage_and_exit_2(
        argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("사용법: advisory") and lines[-1].startswith(says)
    assert [line for line in lines if "오류" in line] == [lines[-1]]


def test_unknown_program_code_warning_names_file_and_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    doc = tmp_path / "2026_자문.txt"
    doc.write_text("□ 홍길동 위원\n\n ㅇ 성과지표를 새로 설정할 필요가 있음\n\n ㅇ (9-9-9) 신규 사업은 홍보 채널을 늘려야 함\n",
                   encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert main(["parse", str(doc), "--out", str(tmp_path / "units.csv")]) == 0
    (warning,) = [r.getMessage() for r in caplog.records if "9-9-9" in r.getMessage()]
    assert f"{doc.name}:5" in warning and "programs.csv" in warning


def _advisory(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def test_run_reports_each_stage_on_stderr_and_quiet_silences_it(tmp_path: Path) -> None:
    round_file = str(ROOT / "tests" / "fixtures" / "new_round.txt")
    loud = _advisory("run", round_file, "--embedder", "tfidf", "--no-cache", "--out", "loud", cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    lines = loud.stderr.splitlines()
    stages = ["파일 읽기", "권고 나누기", "형태소 분석", "문장 임베딩", "주제 모델 학습", "주제 요약", "결과 쓰기"]
    positions = [next(i for i, line in enumerate(lines) if line.startswith(stage)) for stage in stages]
    assert positions == sorted(positions)
    assert re.fullmatch(r"권고 \d+건, 주제 \d+개 → loud", lines[-1])
    assert loud.stdout == ""
    quiet = _advisory("run", round_file, "--embedder", "tfidf", "--no-cache", "--out", "quiet", "--quiet",
                      cwd=tmp_path)
    # --quiet keeps warnings: the round's title line is in no unit, and that is said in one line.
    assert quiet.returncode == 0
    assert quiet.stderr.splitlines() == ["권고 단위에 들어가지 않은 줄 1개 (첫 구조 앞 제목·문서 번호 1곳) — 목록: 결과 폴더의 "
                                         "unplaced.csv"]
    assert (tmp_path / "quiet" / "recommendations.csv").is_file()


def test_the_command_line_builds_the_run_options_once_from_its_options(tmp_path: Path) -> None:
    """Each command's options become one RunOptions; options a command lacks keep their defaults."""
    from pipeline.cli import build_parser, run_options
    from pipeline.core.options import DEFAULT_OPTIONS, RunOptions

    run = run_options(build_parser().parse_args(["run", "--embedder", "tfidf", "--max-tokens", "64", "--seed", "3",
                                                 "--no-cache", "--workers", "2", "--skip-bad", "--programs", "p.csv"]))
    assert run == RunOptions(programs=Path("p.csv"), embedder="tfidf", max_tokens=64, seed=3, use_cache=False,
                             workers=2, skip_bad=True)
    recode = run_options(build_parser().parse_args(["archive", "recode", "--archive", "a.duckdb", "--round", "r",
                                                    "--model", "m", "--cache-dir", str(tmp_path)]))
    assert recode == RunOptions(cache_dir=tmp_path)
    assert run_options(build_parser().parse_args(["evaluate", "--gold", "g", "--run", "r"])) == DEFAULT_OPTIONS
