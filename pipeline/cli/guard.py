"""``advisory``'s entry point: parse the command line, build the run options once, run the command's handler,
and turn bad input into one line and exit status 2."""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from collections.abc import Sequence

from pipeline.cli.parser import build_parser, run_options
from pipeline.core.errors import InputError, one_line

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
        print(f"오류: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not _input_failure(exc):
            raise
        if args.verbose:
            traceback.print_exc()
        print(f"오류: 입력 파일을 읽지 못했습니다 ({type(exc).__module__}.{type(exc).__name__}: "
              f"{one_line(exc)}); --verbose 로 자세한 내용을 봅니다", file=sys.stderr)
        return 2


