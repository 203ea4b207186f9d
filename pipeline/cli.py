"""The ``advisory`` command line.

Each subcommand is a thin wrapper: it parses arguments, calls one function of the
package and turns :class:`~pipeline.errors.InputError` into a one-line message and
exit status 2. Heavy imports (torch, BERTopic) happen inside the handlers so that
``advisory parse`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import InputError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROUND = PACKAGE_ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
DEFAULT_OUT = PACKAGE_ROOT / "outputs"


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--programs", type=Path, default=None, help="program registry CSV (default: corpus/programs.csv)")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable files in a folder instead of failing")
    p.add_argument("--quiet", action="store_true", help="no progress bars or info messages")
    p.add_argument("--verbose", action="store_true", help="debug messages")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="advisory", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="read rounds and write the recommendation units")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the bundled round)")
    p.add_argument("--out", type=Path, default=None, help=".csv or .jsonl file (default: print CSV to stdout)")
    _add_common(p)
    p.set_defaults(handler=_cmd_parse)

    p = sub.add_parser("compare", help="compare two run folders: theme shares and program attention")
    p.add_argument("run_a", type=Path, help="the earlier run folder")
    p.add_argument("run_b", type=Path, help="the later run folder")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: outputs/compare_A_vs_B)")
    p.add_argument("--quiet", action="store_true", help="no info messages")
    p.add_argument("--verbose", action="store_true", help="debug messages")
    p.set_defaults(handler=_cmd_compare)
    return parser


def _cmd_parse(args: argparse.Namespace) -> int:
    from pipeline.units import load_units, write_units

    units = load_units(args.paths or [DEFAULT_ROUND], programs=args.programs, skip_bad=args.skip_bad)
    write_units(units, args.out)
    if args.out is not None:
        logging.info("%d units -> %s", len(units), args.out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from pipeline.compare import write_comparison

    out = args.out or DEFAULT_OUT / f"compare_{args.run_a.name}_vs_{args.run_b.name}"
    write_comparison(args.run_a, args.run_b, out)
    logging.info("comparison -> %s", out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
