"""Measured child processes: wall time, CPU time and peak RSS of one process alone, under a watchdog.

Every measured run of a study is its own process, so that wall time includes interpreter start and
imports and the peak resident set (``ru_maxrss`` from ``wait4``) is that run's alone. A watchdog kills a
run past a memory or time limit and records why, so that a quadratic step fails the run, not the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.lib.paths import ROOT

# The console script of the interpreter running the bench (it imports the code on PYTHONPATH first).
ADVISORY = Path(sys.executable).with_name("advisory")


@dataclass
class ChildRun:
    """One measured process: what ran, how long, how much memory, and how it ended."""

    cmd: list[str]
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stopped: str = ""  # "memory" or "timeout" when the watchdog killed it
    load_before: float = 0.0  # 1-minute load average at the start: other work competing for the cores
    log: str = ""
    result: dict = field(default_factory=dict)  # run.json or the child's own result file
    cpu_s: float = 0.0  # user + system CPU seconds of the child: steadier than wall time when others load the cores

    @property
    def ok(self) -> bool:
        """Whether the process finished by itself with status 0."""
        return self.returncode == 0 and not self.stopped

    def failure(self) -> str:
        """How a run that is not ``ok`` ended, in a few words (for a table cell)."""
        return f"failed ({self.stopped or f'exit {self.returncode}'})"

    def last_line(self) -> str:
        """The last non-blank line the process printed (stdout and stderr together)."""
        lines = [line for line in self.log.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants (0 once it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run_child(cmd: Sequence[str], log_path: Path, timeout_s: float, mem_limit_gb: float,
              env: Mapping[str, str] | None = None, cwd: Path = ROOT) -> ChildRun:
    """Run ``cmd`` in ``cwd``, output to ``log_path``; wall time, CPU time and peak RSS of it alone.

    ``env`` is added to this process's environment for the child. A watchdog thread samples the
    process tree's RSS twice a second and kills it past ``mem_limit_gb`` or past ``timeout_s``. The
    child is reaped with ``wait4``, whose rusage covers this child only.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    stopped: list[str] = []
    done = threading.Event()
    with log_path.open("w", encoding="utf-8") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                env=None if env is None else {**os.environ, **env})

        def watch() -> None:
            while not done.wait(0.5):
                if _tree_rss(proc.pid) > mem_limit_gb * 2**30:
                    stopped.append("memory")
                elif time.perf_counter() - start > timeout_s:
                    stopped.append("timeout")
                else:
                    continue
                proc.kill()
                return

        watchdog = threading.Thread(target=watch, daemon=True)
        watchdog.start()
        # Wait without reaping first, so the watchdog can never signal a recycled pid.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        wall = time.perf_counter() - start
        done.set()
        watchdog.join()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    # ru_maxrss is in KiB on Linux.
    return ChildRun(list(cmd), wall, usage.ru_maxrss / 1024, proc.returncode, stopped[0] if stopped else "",
                    load_before, tail, cpu_s=usage.ru_utime + usage.ru_stime)
