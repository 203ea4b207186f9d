"""The ``advisory`` parser: every subcommand in the order of a study, Korean help, and the run options built
from the parsed arguments. Each command group's subcommands and handlers are in a module of their own
(:mod:`~pipeline.cli.rounds`, :mod:`~pipeline.cli.study`, :mod:`~pipeline.cli.exchange`,
:mod:`~pipeline.cli.codebook`, :mod:`~pipeline.cli.archive`)."""

from __future__ import annotations

import argparse

from pipeline import __version__
from pipeline.cli import archive, codebook, exchange, rounds, study
from pipeline.cli.arguments import KoreanHelp, KoreanParser, korean
from pipeline.core.options import RunOptions

DESCRIPTION = """자문위원 의견 주제 분석 (advisory-themes)

자문위원회 회차 문서(HWP, HWPX, PDF, DOCX, TXT)를 권고 단위로 나누고, 위원들이 제기한 주제와
주제별 관련 사업을 찾아 표, 엑셀 행렬, 히트맵, HTML 보고서로 씁니다.

작업 순서: parse → run → assign → evaluate → compare → export-qdpx / import-qdpx → codebook → archive"""

EPILOG = """예:
  advisory run                                  번들 회차를 분석해 ./outputs 에 씁니다
  advisory run 2025_자문.hwpx --out outputs/2025
  advisory run --save-model models/seed         주제 모델도 저장합니다
  advisory assign 새회차.pdf --model models/seed --out outputs/new
  advisory run --help                           명령별 도움말

진행 상황은 표준 오류(stderr)에 한 단계씩 나옵니다(--quiet 로 끕니다).
캐시(임베딩 벡터와 Kiwi 형태소 분석 결과): ADVISORY_CACHE_DIR 또는 사용자 캐시 폴더."""


def build_parser() -> argparse.ArgumentParser:
    """The ``advisory`` parser: subcommands in the order of a study's workflow, Korean help."""
    parser = korean(KoreanParser(prog="advisory", description=DESCRIPTION, epilog=EPILOG,
                                             formatter_class=KoreanHelp, add_help=False))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="버전을 보여 주고 끝냅니다")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<명령>", title="명령")
    for group in (rounds, study, exchange, codebook, archive):
        group.add_commands(sub)
    return parser


def run_options(args: argparse.Namespace) -> RunOptions:
    """The :class:`RunOptions` of a command's arguments, built once; options the command lacks keep their defaults."""
    given = {name: getattr(args, name) for name in ("programs", "embedder", "max_tokens", "seed", "cache_dir",
                                                    "workers", "skip_bad") if hasattr(args, name)}
    if hasattr(args, "no_cache"):
        given["use_cache"] = not args.no_cache
    return RunOptions(**given)


