"""``advisory export-qdpx`` and ``import-qdpx``: a run folder to a REFI-QDA project and a recoded project back as
the coding record."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.cli.arguments import add_logging, subcommand


def add_commands(sub) -> None:
    """The ``export-qdpx`` and ``import-qdpx`` subcommands."""
    p = subcommand(sub, "export-qdpx",
                    "결과 폴더를 REFI-QDA 프로젝트(.qdpx)로 씁니다 (MAXQDA, NVivo, ATLAS.ti, QualCoder)", """\
  advisory export-qdpx outputs --out 2024_자문.qdpx""", _cmd_export_qdpx)
    p.add_argument("run_dir", type=Path, help="결과 폴더 (run.json에 적힌 입력 파일이 그 자리에 있어야 함)")
    p.add_argument("--out", type=Path, required=True, help="쓸 프로젝트 파일 (.qdpx)")
    add_logging(p)

    p = subcommand(sub, "import-qdpx", "다른 도구에서 다시 코딩한 .qdpx의 주제를 수정 파일(CSV)로 읽어옵니다", """\
  advisory import-qdpx 2024_자문_재코딩.qdpx --run outputs --out corrections.csv
  advisory archive add 2024.txt --archive a.duckdb --round-name "2024 자문" --corrections corrections.csv""",
                    _cmd_import_qdpx)
    p.add_argument("qdpx", type=Path, help="REFI-QDA 프로젝트 (.qdpx, 어느 도구에서 왔든)")
    p.add_argument("--run", type=Path, required=True, help="프로젝트를 내보낸 결과 폴더")
    p.add_argument("--out", type=Path, required=True,
                   help="쓸 수정 파일 CSV: 프로젝트에서 주제가 코딩된 모든 권고 "
                        "(결과 폴더의 corrections.csv와 같은 열)")
    p.add_argument("--changed-only", action="store_true",
                   help="결과 폴더와 주제가 달라진 권고만 씀 (기본: 모든 권고; 그 파일로 다시 실행하면 "
                        "모든 권고가 연구자 결정이 됨)")
    add_logging(p)


def _cmd_export_qdpx(args: argparse.Namespace) -> int:
    from pipeline.qda.export import export_qdpx

    done = export_qdpx(args.run_dir, args.out)
    logging.info("문서 %d개, 코딩된 구간 %d개, 코드 %d개, 케이스 %d개 → %s",
                 done.sources, done.selections, done.codes, done.cases, done.path)
    return 0


def _cmd_import_qdpx(args: argparse.Namespace) -> int:
    from pipeline.qda.importer import import_qdpx

    result = import_qdpx(args.qdpx, args.run, args.out, changed_only=args.changed_only)
    logging.info("권고 %d건을 찾았고 그중 %d건의 주제가 결과 폴더와 다릅니다; 주제 코딩 %d건 → %s", result.matched,
                 len(result.changed), len(result.corrections), args.out)
    return 0


