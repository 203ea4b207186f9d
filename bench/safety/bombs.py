"""Peak memory of reading decompression bombs (issue 13): each should end in one line, under 1 GB.

``python -m bench.safety.bombs [GIB]`` (default 1) builds, in a temporary folder: a DOCX linking
three parts of GIB GiB of zeros each; an HWPX whose section inflates to GIB GiB; an HWP whose
section inflates to 9 MB (deflate packs at most ~1,000:1 and the fixture's section stream is
10 KB), read with the member cap lowered to 1 MB; the worst file that passes the default caps,
an HWPX whose section is 199 MB of tiny paragraphs; a PDF whose page content stream inflates to
GIB GiB, the same deflated twice (a 1 KB file), and a PDF of three pages whose streams of 199 MB
each pass the member cap but not, together, the file cap. Each is read by ``read_document`` in a
fresh process (``bench.lib.runner``, whose watchdog stops a read past ``--mem-limit-gb``); the table gives
its exit status, seconds, peak RSS (from ``wait4``) and last output line (the message, or the lines read).
The table is block ``bombs`` of ``bench/results/bombs.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.runner import ChildRun, run_child
from bench.lib.tables import Column, table
from tests.support.bombs import docx_bomb, hwp_bomb, hwpx_bomb
from tests.support.make_fixtures import SEED, seed_lines, write_docx, write_hwp, write_hwpx
from tests.support.pdf_bombs import pdf_bomb

READ = "import sys; from pipeline.read.documents import read_document; print(len(read_document(sys.argv[1]).lines))"


def measure(path: Path, member_mb: int | None, mem_limit_gb: float) -> ChildRun:
    """Read ``path`` in a child process (member cap ``member_mb`` MB where given)."""
    env = {"PYTHONPATH": str(ROOT)}
    if member_mb is not None:
        env["ADVISORY_MAX_MEMBER_MB"] = str(member_mb)
    return run_child([sys.executable, "-c", READ, str(path)], path.with_suffix(".log"), timeout_s=1800,
                     mem_limit_gb=mem_limit_gb, env=env)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: build the bombs in a temporary folder, read each in its own process, record the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gib", type=int, nargs="?", default=1, help="GiB each bomb unpacks to (default 1)")
    ap.add_argument("--mem-limit-gb", type=float, default=8, help="RSS at which a read is stopped")
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    gib = args.gib
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines = seed_lines(SEED)
        docx = write_docx(lines, folder / "seed.docx")
        hwpx = write_hwpx(lines, folder / "seed.hwpx")
        hwp = write_hwp(lines, folder / "seed.hwp")
        files = [
            (f"DOCX, 3 linked parts of {gib} GiB", docx_bomb(docx, folder / "bomb.docx", part_mb=1024 * gib), None),
            (f"HWPX, section of {gib} GiB", hwpx_bomb(hwpx, folder / "bomb.hwpx", section_mb=1024 * gib), None),
            ("HWP, section of 9 MB, cap 1 MB", hwp_bomb(hwp, folder / "bomb.hwp", section_mb=9), 1),
            ("HWPX, section of 199 MB (passes the caps)", hwpx_bomb(hwpx, folder / "dense.hwpx", section_mb=199), None),
            (f"PDF, content stream of {gib} GiB", pdf_bomb(folder / "bomb.pdf", stream_mb=1024 * gib), None),
            (f"PDF, content stream of {gib} GiB deflated twice",
             pdf_bomb(folder / "bomb2.pdf", stream_mb=1024 * gib, filters=2), None),
            ("PDF, 3 pages of 199 MB each (file cap)", pdf_bomb(folder / "pages.pdf", stream_mb=199, pages=3), None),
        ]
        rows = []
        for name, path, member_mb in files:
            run = measure(path, member_mb, args.mem_limit_gb)
            exit_ = run.returncode if not run.stopped else run.failure()
            message = run.last_line().split(": ", 2)[-1][:150]
            rows.append([name, path.stat().st_size / 1024 / 1024, exit_, run.wall_s, run.peak_rss_mb, message])
    columns = [Column("file"), Column("size MB", "{:.1f}"), Column("exit", "{}"), Column("seconds", "{:.1f}"),
               Column("peak RSS MB", "{:,.0f}"), Column("message")]
    recorder.record("bombs", "Decompression bombs, each read by read_document in its own process",
                    [table(columns, rows)])


if __name__ == "__main__":
    main()
