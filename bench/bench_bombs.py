"""Peak memory of reading decompression bombs (issue 13): each should end in one line, under 1 GB.

``python bench/bench_bombs.py [GIB]`` (default 1) builds, in a temporary folder: a DOCX linking
three parts of GIB GiB of zeros each; an HWPX whose section inflates to GIB GiB; an HWP whose
section inflates to 9 MB (deflate packs at most ~1,000:1 and the fixture's section stream is
10 KB), read with the member cap lowered to 1 MB; the worst file that passes the default caps,
an HWPX whose section is 199 MB of tiny paragraphs; a PDF whose page content stream inflates to
GIB GiB, the same deflated twice (a 1 KB file), and a PDF of three pages whose streams of 199 MB
each pass the member cap but not, together, the file cap. Each is read by ``read_document`` in a
fresh process; the table gives its exit status, seconds, peak RSS (from ``wait4``) and last output line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.bombs import docx_bomb, hwp_bomb, hwpx_bomb  # noqa: E402
from tests.support.make_fixtures import SEED, seed_lines, write_docx, write_hwp, write_hwpx  # noqa: E402
from tests.support.pdf_bombs import pdf_bomb  # noqa: E402

READ = "import sys; from pipeline.read.documents import read_document; print(len(read_document(sys.argv[1]).lines))"


def measure(path: Path, member_mb: int | None) -> tuple[int, float, float, str]:
    """Read ``path`` in a child process. Out: exit status, seconds, peak RSS in MB, last output line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if member_mb is not None:
        env["ADVISORY_MAX_MEMBER_MB"] = str(member_mb)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", READ, str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in output.splitlines() if line.strip()]
    return child.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def main() -> None:
    gib = int(sys.argv[1]) if len(sys.argv) > 1 else 1
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
        print("| file | size MB | exit | seconds | peak RSS MB | last line |\n|---|---|---|---|---|---|")
        for name, path, member_mb in files:
            status, seconds, rss, last = measure(path, member_mb)
            size = path.stat().st_size / 1024 / 1024
            print(f"| {name} | {size:.1f} | {status} | {seconds:.1f} | {rss:,.0f} | {last.split(': ', 2)[-1][:150]} |")


if __name__ == "__main__":
    main()
