"""The command line's shared pieces: Korean help (titles, "사용법", examples after the options), the options
several commands take (logging, program registry, cache, workers, corrections files) and their value types.

Option names stay English so that commands read the same in every document; help texts are Korean.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.core.paths import BUNDLED_PROGRAMS

PROGRAMS_HELP = f"사업 목록 CSV (기본: 번들 {BUNDLED_PROGRAMS})"
CACHE_HELP = "캐시 폴더: 임베딩 벡터와 Kiwi 형태소 분석 결과 (기본: $ADVISORY_CACHE_DIR, 없으면 사용자 캐시 폴더)"



def add_logging(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="진행 상황과 안내 메시지를 출력하지 않음 (경고·오류만)")
    p.add_argument("--verbose", action="store_true", help="자세한 디버그 메시지")


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--programs", type=Path, default=None, help=PROGRAMS_HELP)
    p.add_argument("--skip-bad", action="store_true", help="폴더 안의 읽을 수 없는 파일을 건너뜀 (기본: 중단)")
    add_logging(p)


def add_cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path, default=None, help=CACHE_HELP)
    p.add_argument("--no-cache", action="store_true",
                   help="캐시(임베딩 벡터와 Kiwi 형태소 분석 결과)를 읽지도 쓰지도 않음")


def add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=whole_number(1), default=None,
                   help="Kiwi와 임베딩 모델의 스레드 수 (기본: CPU 코어마다 하나)")


def add_corrections(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corrections", type=Path, action="append", default=None, metavar="FILE",
                   help="연구자 수정 파일 CSV (rec_id,theme_id[,theme_label,note,…]): 적힌 권고는 그 주제로 "
                        "고정. 여러 번 줄 수 있고 차례로 합쳐지며 나중 파일이 이깁니다; 결과 폴더에 기록된 이전 "
                        "결정도 이어집니다")


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= ``minimum``, else argparse's one-line usage error."""
    def convert(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{minimum} 이상의 정수여야 합니다 (받은 값: {value!r})")
        return number

    return convert


def seconds(value: str) -> float:
    """An argparse ``type``: a finite number of seconds >= 0 (``nan`` would wait forever, ``inf`` too)."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (math.isfinite(number) and number >= 0):
        raise argparse.ArgumentTypeError(f"0 이상의 초여야 합니다 (받은 값: {value!r})")
    return number


# argparse's own errors, in the order tried (the last catches every other "argument X: …", whose reason our
# own type checks already give in Korean). argparse has no catalogue for Korean, so they are matched here.
_ARGPARSE_ERRORS = (
    (r"unrecognized arguments: (.*)", r"알 수 없는 인자입니다: \1"),
    (r"the following arguments are required: (.*)", r"꼭 필요한 인자가 빠졌습니다: \1"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"\1: 고를 수 없는 값 \2 (고를 수 있는 값: \3)"),
    (r"argument (\S+): expected one argument", r"\1: 값이 하나 필요합니다"),
    (r"argument (\S+): expected at least one argument", r"\1: 값이 하나 이상 필요합니다"),
    (r"argument (\S+): invalid \S+ value: (.*)", r"\1: 올바르지 않은 값 \2"),
    (r"argument (\S+): not allowed with argument (.*)", r"\1은(는) \2와(과) 함께 쓸 수 없습니다"),
    (r"ambiguous option: (\S+) could match (.*)", r"\1: 여러 옵션과 맞습니다 (\2)"),
    (r"argument (\S+): (.*)", r"\1: \2"),
)


def korean_error(message: str) -> str:
    """argparse's error ``message`` in Korean (unchanged when it is none of argparse's known ones)."""
    for pattern, korean_text in _ARGPARSE_ERRORS:
        if re.fullmatch(pattern, message, flags=re.DOTALL):
            return re.sub(pattern, korean_text, message, count=1, flags=re.DOTALL)
    return message


class KoreanParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors read in Korean: the usage line, then ``advisory: 오류: …`` (exit 2)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: 오류: {korean_error(message)}\n")


class KoreanHelp(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and says "사용법" where argparse says "usage"."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, "사용법: " if prefix is None else prefix)


def korean(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Korean section title and -h/--help text (argparse writes them in English)."""
    p._optionals.title = "옵션"  # no public setter; argparse documents the group titles only through this
    p._positionals.title = "인자"
    p.add_argument("-h", "--help", action="help", help="이 도움말을 보여 주고 끝냅니다")
    return p


def subcommand(sub, name: str, help_text: str, examples: str, handler) -> argparse.ArgumentParser:
    """A subcommand whose help shows ``help_text`` and, after the options, its examples."""
    p = korean(sub.add_parser(name, help=help_text, description=help_text, epilog="예:\n" + examples,
                               formatter_class=KoreanHelp, add_help=False))
    p.set_defaults(handler=handler)
    return p


