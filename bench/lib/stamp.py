"""What a result was measured on: date, machine, commit (and files that differed from it), command line.

The keys follow pytest-benchmark's saved runs (``datetime``, ``machine_info``, ``commit_info``), so the
files read alike. Figures are only compared within one stamp's machine; a ratio is always taken between
runs of the same invocation.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import ROOT

# Folders whose uncommitted changes a result should name: the code measured and the bench itself
# (its results and README are what the bench writes, so they do not count).
WATCHED = ("pipeline", "bench", "corpus")
WRITTEN = ("bench/results/", "bench/README.md")


def machine_info() -> dict[str, object]:
    """CPU model, cores, memory, OS and Python of this machine."""
    import psutil

    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30),
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


def commit_info(root: Path = ROOT) -> dict[str, object]:
    """The commit measured, and which of its watched files differed from it (others edit the tree meanwhile)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False).stdout

    # Porcelain lines are "XY path" ("XY old -> new" for a rename); the status letters may start with a
    # space, so no stripping there.
    changed = [line[3:].split(" -> ")[-1] for line in git("status", "--porcelain", *WATCHED).splitlines()
               if line.strip()]
    return {"id": git("rev-parse", "--short", "HEAD").strip(),
            "uncommitted": [path for path in changed if not path.startswith(WRITTEN)]}


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    """How the study was started, as one would type it again (``python -m MODULE ARGS``)."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python", "-m", module, *map(shlex.quote, args)])


def make_stamp(command: str) -> dict[str, object]:
    """The stamp of a result measured now: call it before the runs, since the tree may change while they go."""
    return {"datetime": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine_info": machine_info(), "commit_info": commit_info(), "load_before": os.getloadavg()[0],
            "command": command}


def render_stamp(stamp: dict) -> str:
    """The stamp as the two lines above a result table: when, on what, which code; then the command."""
    when = dt.datetime.fromisoformat(stamp["datetime"]).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    m = stamp["machine_info"]
    machine = f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['system']}, Python {m['python']}"
    code = stamp["commit_info"]
    changed = f" + uncommitted {', '.join(code['uncommitted'])}" if code["uncommitted"] else ""
    return f"{when}; {machine}; code {code['id']}{changed}.\n`{stamp['command']}`"
