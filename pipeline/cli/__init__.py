"""The ``advisory`` command line: 자문위원 의견 주제 분석.

Each subcommand is a thin wrapper: it parses arguments, calls one function of the package and turns
``InputError`` into a one-line message and exit status 2 (:mod:`~pipeline.cli.guard`). The parser
(:mod:`~pipeline.cli.parser`, with the shared options in :mod:`~pipeline.cli.arguments`) lists the command
groups, each a module of its own: :mod:`~pipeline.cli.rounds` (parse, run, assign), :mod:`~pipeline.cli.study`
(evaluate, compare), :mod:`~pipeline.cli.exchange` (export-qdpx, import-qdpx), :mod:`~pipeline.cli.codebook`
and :mod:`~pipeline.cli.archive`.
"""

from pipeline.cli.guard import main
from pipeline.cli.parser import build_parser, run_options

__all__ = ["build_parser", "main", "run_options"]
