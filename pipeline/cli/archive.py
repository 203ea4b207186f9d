"""``advisory archive add|list|remove|recode|trends|export``: the DuckDB archive of rounds."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.cli.arguments import (
    PROGRAMS_HELP,
    add_cache,
    add_corrections,
    add_logging,
    add_workers,
    seconds,
    subcommand,
)
from pipeline.core.errors import InputError


def add_commands(sub) -> None:
    """``advisory archive add|list|remove|recode|trends|export``: the DuckDB archive of rounds."""
    group = subcommand(sub, "archive", "회차 보관소: DuckDB 파일 하나에 모든 회차, 회차별 추이", """\
  advisory archive add 2024.txt --archive a.duckdb --round-name "2024 자문" --model models/seed
  advisory archive trends --archive a.duckdb --out trends""", None)
    commands = group.add_subparsers(dest="archive_command", required=True, metavar="<명령>", title="명령")

    def command(name: str, help_text: str, examples: str, handler) -> argparse.ArgumentParser:
        p = subcommand(commands, name, help_text, examples, handler)
        p.add_argument("--archive", type=Path, required=True, help="보관소 파일 (DuckDB)")
        p.add_argument("--wait", type=seconds, default=60.0,
                       help="다른 프로세스가 보관소에 쓰는 동안 기다릴 초 (기본 60)")
        add_logging(p)
        return p

    p = command("add", "회차를 보관소에 저장합니다: 검토한 결과 폴더 그대로(--run), 또는 파일을 보관소의 모델로 "
                       "분류해서",
                """\
  advisory archive add --run outputs/2024 --archive a.duckdb --round-name "2024 자문" --date 2024-11-01
  advisory archive add 2024.txt --archive a.duckdb --round-name "2024 자문" --date 2024-11-01 --model models/seed
  advisory archive add 2025/ --archive a.duckdb --round-name "2025 자문" --corrections corrections.csv""",
                _cmd_archive_add)
    p.add_argument("paths", nargs="*", type=Path, help="회차의 파일 또는 폴더 (--run 을 쓰지 않을 때)")
    p.add_argument("--run", type=Path, default=None,
                   help="검토를 마친 결과 폴더: 그 주제·수정 기록·확신도를 그대로 저장 (다시 분류하지 않음)")
    p.add_argument("--round-name", required=True, help="보관소 안의 회차 이름, 예: '2025 자문'")
    p.add_argument("--date", default=None, help="회차 날짜 YYYY-MM-DD (회차 순서를 정함)")
    p.add_argument("--model", type=Path, default=None,
                   help="저장한 주제 모델 (첫 회차에는 필수이며 고정됨; 기본: 고정된 모델)")
    add_corrections(p)
    p.add_argument("--replace", action="store_true", help="같은 이름의 회차를 바꿈")
    p.add_argument("--programs", type=Path, default=None, help=PROGRAMS_HELP)
    p.add_argument("--skip-bad", action="store_true", help="폴더 안의 읽을 수 없는 파일을 건너뜀")
    add_cache(p)
    add_workers(p)
    command("list", "보관소의 회차 목록을 보여 줍니다", "  advisory archive list --archive a.duckdb", _cmd_archive_list)
    p = command("remove", "보관소에서 회차 하나를 지웁니다",
                "  advisory archive remove --archive a.duckdb --round \"2024 자문\"", _cmd_archive_remove)
    p.add_argument("--round", required=True, help="회차 이름")
    p = command("recode", "보관된 회차 하나를 다른 모델로 다시 분류합니다",
                "  advisory archive recode --archive a.duckdb --round \"2024 자문\" --model models/v2",
                _cmd_archive_recode)
    p.add_argument("--round", required=True, help="회차 이름")
    p.add_argument("--model", type=Path, required=True, help="다시 분류할 주제 모델 폴더")
    add_cache(p)
    add_workers(p)
    p = command("trends", "회차별 주제·사업 비중: CSV, trends.png, report.html",
                "  advisory archive trends --archive a.duckdb --out trends", _cmd_archive_trends)
    p.add_argument("--out", type=Path, required=True, help="출력 폴더")
    p = command("export", "보관소의 모든 표를 Parquet으로 씁니다",
                "  advisory archive export --archive a.duckdb --out tables", _cmd_archive_export)
    p.add_argument("--out", type=Path, required=True, help="출력 폴더")


def _cmd_archive_add(args: argparse.Namespace) -> int:
    from pipeline.archive.rounds import add_round, add_run_folder

    if args.run is not None:
        if args.paths or args.corrections or args.model:
            raise InputError("--run", "검토한 결과 폴더는 그대로 저장합니다: 회차 파일, --model, --corrections 와 함께 "
                                      "쓸 수 없습니다 (결정은 결과 폴더의 corrections.csv에 있습니다)")
        stored = add_run_folder(args.archive, args.run, args.round_name, date=args.date, replace=args.replace,
                                wait=args.wait)
    elif not args.paths:
        raise InputError("archive add", "회차의 파일·폴더나 --run 결과 폴더를 주세요")
    else:
        stored = add_round(args.archive, args.paths, args.round_name, args.options, date=args.date,
                           model_dir=args.model, corrections=args.corrections, replace=args.replace, wait=args.wait)
    logging.info("%s: 권고 %d건 (연구자 결정 %d건) → %s", stored.name, len(stored.units), len(stored.corrections),
                 args.archive)
    return 0


#: ``archive list``'s columns as researchers read them.
LIST_HEADERS = {"round_name": "회차", "round_date": "날짜", "n_units": "권고 수", "n_corrected": "연구자 결정",
                "model": "모델", "added_at": "저장 시각", "recoded_at": "재분류 시각"}


def _cmd_archive_list(args: argparse.Namespace) -> int:
    from pipeline.archive.store import list_rounds

    rounds = list_rounds(args.archive, wait=args.wait)
    print(rounds.rename(columns=LIST_HEADERS).to_string(index=False) if len(rounds) else "(회차 없음)")
    return 0


def _cmd_archive_remove(args: argparse.Namespace) -> int:
    from pipeline.archive.store import remove_round

    remove_round(args.archive, args.round, wait=args.wait)
    logging.info("%s 회차를 %s에서 지웠습니다", args.round, args.archive)
    return 0


def _cmd_archive_recode(args: argparse.Namespace) -> int:
    from pipeline.archive.rounds import recode_round

    stored = recode_round(args.archive, args.round, args.model, args.options, wait=args.wait)
    logging.info("%s: 권고 %d건을 %s 모델로 다시 분류했습니다", stored.name, len(stored.units), args.model)
    return 0


def _cmd_archive_trends(args: argparse.Namespace) -> int:
    from pipeline.archive.trends import write_trends

    logging.info("회차별 추이 → %s", write_trends(args.archive, args.out, wait=args.wait))
    return 0


def _cmd_archive_export(args: argparse.Namespace) -> int:
    from pipeline.archive.store import export_tables

    logging.info("보관소 표 → %s", export_tables(args.archive, args.out, wait=args.wait))
    return 0


