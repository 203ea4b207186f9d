"""``advisory evaluate`` and ``compare``: a run folder against a human coding, and two run folders side by side."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.cli.arguments import add_logging, subcommand
from pipeline.core.paths import DEFAULT_COMPARE_DIR


def add_commands(sub) -> None:
    """The ``evaluate`` and ``compare`` subcommands."""
    p = subcommand(sub, "evaluate", "결과 폴더를 사람의 코딩(정답)과 비교해 일치도를 냅니다", """\
  advisory evaluate --gold corpus/eval/seed_gold.csv --run outputs
  advisory evaluate --gold 정답.csv --run outputs/2025 --json --out metrics.json""", _cmd_evaluate)
    p.add_argument("--gold", type=Path, required=True, help="정답 CSV (unit,key,theme_id,accept,program_codes,fields)")
    p.add_argument("--run", type=Path, required=True, help="평가할 결과 폴더")
    p.add_argument("--out", type=Path, default=None, help="지표를 JSON 파일로도 저장")
    p.add_argument("--json", action="store_true", help="표 대신 JSON 출력")
    add_logging(p)

    p = subcommand(sub, "compare", "두 결과 폴더를 비교합니다: 주제 비중과 사업별 관심의 변화", """\
  advisory compare outputs/2024 outputs/2025
  advisory compare outputs/2024 outputs/2025 --out comparisons/24_25""", _cmd_compare)
    p.add_argument("run_a", type=Path, help="이전 결과 폴더")
    p.add_argument("run_b", type=Path, help="나중 결과 폴더")
    p.add_argument("--out", type=Path, default=None, help="출력 폴더 (기본: comparisons/compare_A_vs_B)")
    add_logging(p)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from pipeline.core.atomic import refuse_inside
    from pipeline.study.evaluate import evaluate, format_table, write_json

    if args.out is not None:
        refuse_inside(args.out, args.run)
    result = evaluate(args.gold, args.run)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_table(result))
    if args.out is not None:
        write_json(result, args.out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from pipeline.study.compare import write_comparison

    out = args.out or DEFAULT_COMPARE_DIR / f"compare_{args.run_a.name}_vs_{args.run_b.name}"
    write_comparison(args.run_a, args.run_b, out)
    logging.info("비교 → %s", out)
    return 0


