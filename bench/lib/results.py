"""Result files: each study keeps its results in ``bench/results/<study>.json``, one block per README table.

A file is ``{"study": "bench.speed.tokenizer", "blocks": {NAME: block, ...}}``. A block is what one run of
the study measured for one table of ``bench/README.md`` (between ``<!-- bench:NAME -->`` markers):
``title``, ``stamp`` (see ``stamp.py``), ``body`` (tables and texts, see ``tables.py``) and, optionally,
``header`` (false for a table set inside prose: no heading or stamp line is written above it) and ``data``
(the raw measurements behind the table). A run replaces its own blocks and keeps the others, so a file
holds the latest figures of every table the study makes; git keeps the history.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import RESULTS
from bench.lib.stamp import make_stamp
from bench.lib.tables import render_block


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_plain)


def dumps(value: object, indent: str = "", one_line_items: bool = False) -> str:
    """JSON with one line per table row and column: objects and lists indented, but a list of plain values,
    and each row or column of a table, on one line (a changed figure is a one-line diff)."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [f"{inner}{_json(k)}: {dumps(v, inner, k in ('rows', 'columns'))}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and (one_line_items or any(isinstance(v, dict | list) for v in value)):
        items = [inner + (_json(v) if one_line_items else dumps(v, inner)) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return _json(value)


def _plain(value: object) -> object:
    """numpy scalars (and anything with ``.item()``) as plain JSON numbers."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def study_name(module: str) -> str:
    """The name of a study's result file: its module's last part (``bench.speed.tokenizer`` -> ``tokenizer``)."""
    return module.rsplit(".", 1)[-1]


def load(path: Path) -> dict:
    """A result file (an empty one if it does not exist yet)."""
    if not path.exists():
        return {"blocks": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def load_all(folder: Path = RESULTS) -> dict[str, dict]:
    """Every block of every result file in ``folder``, by block name; a name used twice is an error."""
    blocks: dict[str, dict] = {}
    for path in sorted(folder.glob("*.json")):
        for name, block in load(path)["blocks"].items():
            if name in blocks:
                raise SystemExit(f"{path}: block {name!r} is also in another result file")
            blocks[name] = block
    return blocks


def save(module: str, blocks: dict[str, dict], folder: Path = RESULTS) -> Path:
    """Replace (or add) ``blocks`` in the study's result file, keeping its other blocks; the path written."""
    path = folder / f"{study_name(module)}.json"
    saved = load(path)
    merged = {"study": module, "blocks": {**saved["blocks"], **blocks}}
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(merged) + "\n", encoding="utf-8")
    return path


def block(title: str, stamp: dict, body: Sequence[dict], data: object = None) -> dict:
    """A block as a run writes it: titled and stamped (``python -m bench.report`` puts both above the body)."""
    made = {"title": title, "stamp": stamp, "body": list(body)}
    if data is not None:
        made["data"] = data
    return made


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--no-save`` (``--no-readme``, its old name) and ``--results DIR``: whether and where results go."""
    parser.add_argument("--no-save", "--no-readme", dest="no_save", action="store_true",
                        help="print the tables only; write nothing under --results")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of the result files (default bench/results)")


class Recorder:
    """One invocation's results: stamped when made (before the runs), printed and saved block by block."""

    def __init__(self, module: str, args: argparse.Namespace, argv: Sequence[str] | None = None) -> None:
        from bench.lib.stamp import command_line

        self.module = module
        self.save_to = None if args.no_save else args.results
        self.stamp = make_stamp(command_line(module, argv))

    def record(self, name: str, title: str, body: Sequence[dict], data: object = None) -> dict:
        """Print the block ``name`` and, unless ``--no-save``, write it into the study's result file."""
        made = block(title, self.stamp, body, data)
        print(f"\n<!-- bench:{name} -->\n{render_block(made)}\n", flush=True)
        if self.save_to is not None:
            path = save(self.module, {name: made}, self.save_to)
            print(f"[bench] {name} -> {path}; `python -m bench.report` puts it into bench/README.md", flush=True)
        return made
