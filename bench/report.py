"""Regenerate the result tables of ``bench/README.md`` from the result files in ``bench/results``.

``python -m bench.report [--check] [--results DIR] [--readme FILE]``

Every ``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->`` block of the README is rewritten from the
block ``NAME`` of the result files; the prose around the blocks is left as it is. A block that no README
marker names yet is added at the end, where it can then be moved (markers and all). A marker that names
no result is an error: its figures would have no source. ``--check`` writes nothing and exits with status
1 when the README differs from what the results give (someone edited a table by hand, or forgot to run
this after a study).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import README, RESULTS
from bench.lib.results import load_all
from bench.lib.tables import render_block

MARKED = re.compile(r"<!-- bench:(?P<name>[\w.=-]+) -->\n.*?<!-- /bench:(?P=name) -->", re.DOTALL)


def regenerate(readme: str, blocks: dict[str, dict]) -> str:
    """``readme`` with every marked block rewritten from ``blocks`` and the unmarked ones appended."""
    missing = [m["name"] for m in MARKED.finditer(readme) if m["name"] not in blocks]
    if missing:
        raise SystemExit(f"bench/README.md marks blocks that no result file holds: {', '.join(missing)}")

    def marked(name: str) -> str:
        return f"<!-- bench:{name} -->\n{render_block(blocks[name])}\n<!-- /bench:{name} -->"

    text = MARKED.sub(lambda m: marked(m["name"]), readme)
    present = {m["name"] for m in MARKED.finditer(readme)}
    for name in blocks:
        if name not in present:
            text = text.rstrip("\n") + "\n\n" + marked(name) + "\n"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if the README is not up to date")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of the result files")
    ap.add_argument("--readme", type=Path, default=README, help="the README whose blocks are rewritten")
    args = ap.parse_args(argv)
    before = args.readme.read_text(encoding="utf-8")
    after = regenerate(before, load_all(args.results))
    if args.check:
        if after != before:
            print(f"{args.readme} is not what {args.results} gives: run `python -m bench.report`", file=sys.stderr)
            return 1
        return 0
    if after != before:
        args.readme.write_text(after, encoding="utf-8")
        print(f"{args.readme}: tables regenerated from {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
