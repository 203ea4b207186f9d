"""Leave one theme out: do units of a theme the codebook lacks surface as one new theme?

``python -m bench.quality.loto [--config NAME ...] [--sets NAME ...] [--anchor T ...] [--new-rounds] [--boot 2000]``

The protocol is built by rule from the data at hand, the bundled round and its gold coding
(``corpus/eval/seed_gold.csv``), as the stress sets of ``bench.quality.stress`` are
(:mod:`bench.lib.stress_sets`): for each of the codebook's ten themes X, X is dropped from the
codebook and the round is coded again. X's units should come out as one new theme (``theme_source``
``discovered``, a ``new_theme_NN`` candidate) and every other unit should stay where it was. Per
left-out theme and as the mean over the ten (``--pairs``: every two themes left out at once, below):

- ``surfaced``: the share of X's units put in a new-theme candidate (the issue's figure, the headline);
- ``surfaced (homeless)``: the same over X's *homeless* units only, those whose gold ``accept`` names no
  theme but X (a unit the gold coder also accepts under a theme still in the codebook is arguably
  right to stay there); n/a for a theme without one;
- ``grouped``: ARI of candidate against gold theme over the units in a candidate, where at least two
  candidates appear (else n/a), and ``one group``: the share of X's surfaced units in X's largest candidate;
- ``others to new``: the share of the other units put in a candidate;
- ``known accuracy``: accuracy on the other units (a unit in a candidate counts as wrong).

Sets: every fitted stress set (``bundled``, ``no_headings``, ``press_release``, ``markers_a`` …
``markers_e``; sets whose parse gives the same units share one fit), and ``assign`` /
``assign_no_headings``: a model fitted on the round *without X's units* (last year's round, before
the concern existed) with the codebook minus X is saved, loaded, and the whole round is assigned to it
(``advisory assign``: ``ThemeModel.predict_open``), headed or as plain paragraphs. Intervals are 95%
percentile bootstrap intervals over the round's units (the same resample for all ten themes).

``--config NAME …`` names new-theme rules (:data:`bench.lib.openset_rules.RULES`; ``current`` is the
code's defaults); each is recorded as block ``loto-<NAME>`` (the means per set, and per left-out theme
on the bundled round; every set's per-theme rows are in the block's ``data``). ``--compare NAME …``
records block ``loto-compare``: those rules' means side by side, from this run or their saved blocks
(so rules can be measured in several runs).

``--anchor T …`` also runs BERTopic's zero-shot rule as the rule to beat (:func:`zero_shot`): every
theme's ``label: description`` is a zero-shot topic, a unit whose cosine to its nearest topic is below
``zeroshot_min_similarity`` = T is left to clustering (the discovery step's k-means), and such units
count as new. The units and their vectors are the ones the codebook step scores; block ``loto-anchor``
(on ``bundled`` and ``no_headings``, and with ``--new-rounds`` on the new-concerns rounds).

``--where`` records instead, per rule, where each left-out theme's units went on the bundled round (the
codebook theme they took, whether the gold coding accepts it there, and their evidence): block
``loto-where-<NAME>``.

``--pairs`` leaves every two themes out at once instead (45 runs per set), as a round that raises two
concerns the codebook lacks: only there can the candidates' grouping be judged (the issue's ARI among
surfaced units, defined where two candidates appear), and ``kept apart`` says whether the two themes
came out as two candidates. The same sets, rules, ``--compare`` and ``--anchor``, recorded as blocks
``ltto-<NAME>``, ``ltto-compare`` and ``ltto-anchor``.

``--new-rounds`` scores the four synthetic "new concerns" rounds in ``tests/fixtures`` (written for
this purpose, not from the gold coding; their gold files sit beside them; the last two, another
committee and another layout, were written after the rule was fixed) and the seven rounds in
``bench/rounds/blind``, written by helpers who never saw the code; each with ``run`` and with
``assign`` onto a model fitted on the bundled round, as :func:`pipeline.study.evaluate.new_theme_agreement`
scores them: block ``loto-new-rounds-<NAME>`` per rule.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bench.lib.openset_rules import RULES, as_rule, rule_model
from bench.lib.results import Recorder, add_output_options, load
from bench.lib.rounds import NEW_ROUNDS, paragraphs, parse_text
from bench.lib.stress_sets import STYLES, Bench
from bench.lib.tables import Column, cell, figure, table, text
from pipeline.study.evaluate import match_units, new_theme_agreement, read_gold
from pipeline.themes.openset import is_new_theme

FITTED_SETS = ("bundled", "no_headings", "press_release", *STYLES)
ASSIGN_SETS = ("assign", "assign_no_headings")
# The figures of one left-out theme, in table order.
FIGURES = ("surfaced", "homeless", "one_group", "grouped", "others", "known")
LABELS = ("surfaced", "surfaced (homeless)", "one group", "grouped (ARI)", "others to new", "known accuracy")
# Leaving two themes out (``--pairs``), also whether the two came out as two candidates.
PAIR_FIGURES = (*FIGURES, "apart")
PAIR_LABELS = (*LABELS, "kept apart")
INTERVAL = "{:.2f} [{:.2f}, {:.2f}]"


@dataclass
class Coded:
    """One coding of a set with one theme (or, ``--pairs``, two) left out: per gold unit (in gold order)
    its gold theme, predicted theme, whether that is a new-theme candidate, whether it is credited, and
    whether its gold ``accept`` names its own theme alone."""

    left_out: tuple[str, ...]
    truth: np.ndarray
    pred: np.ndarray
    new: np.ndarray
    hit: np.ndarray
    alone: np.ndarray


def drop_theme(book, *theme_ids: str):
    """The codebook without ``theme_ids``."""
    return replace(book, themes=tuple(t for t in book.themes if t.theme_id not in theme_ids))


def coded(gold: list[dict], units, assignments, *left_out: str) -> Coded:
    """Gold units in gold order against ``assignments`` of ``units``; every gold unit must match."""
    pairs, unmatched = match_units(gold, [u.text for u in units])
    if unmatched:
        raise SystemExit(f"gold units unmatched: {', '.join(unmatched)}")
    pairs.sort(key=lambda pair: gold.index(pair[0]))
    rows = [assignments[i] for _, i in pairs]
    accept = [set(row["accept"].split(";")) | {row["theme_id"]} for row, _ in pairs]
    return Coded(left_out, np.array([row["theme_id"] for row, _ in pairs]), np.array([a.theme_id for a in rows]),
                 np.array([is_new_theme(a.theme_id, a.theme_source) for a in rows]),
                 np.array([a.theme_id in ok for a, ok in zip(rows, accept, strict=True)]),
                 np.array([ok == {row["theme_id"]} for (row, _), ok in zip(pairs, accept, strict=True)]))


def left_out_name(c: Coded) -> str:
    """The left-out theme, or both of a pair: ``branding + sales_channels``."""
    return " + ".join(c.left_out)


def ari(truth: np.ndarray, pred: np.ndarray) -> float:
    """scikit-learn's adjusted Rand index from a contingency table, without its input checks (the
    bootstrap calls it hundreds of thousands of times); 1.0 where the index is undefined, as there."""
    _, rows = np.unique(truth, return_inverse=True)
    _, cols = np.unique(pred, return_inverse=True)
    grid = np.zeros((rows.max() + 1, cols.max() + 1))
    np.add.at(grid, (rows, cols), 1)
    pairs = lambda x: (x * (x - 1) / 2).sum()  # noqa: E731
    both, a, b, n = pairs(grid), pairs(grid.sum(axis=1)), pairs(grid.sum(axis=0)), len(truth) * (len(truth) - 1) / 2
    expected = a * b / n if n else 0.0
    top = (a + b) / 2
    return 1.0 if top == expected else float((both - expected) / (top - expected))


def per_theme(c: Coded, units: np.ndarray | None = None) -> dict[str, float | None]:
    """The protocol's figures for one left-out theme (or pair), over ``units`` (a resample of gold rows;
    default all)."""
    idx = np.arange(len(c.truth)) if units is None else units
    truth, pred, new, hit, alone = c.truth[idx], c.pred[idx], c.new[idx], c.hit[idx], c.alone[idx]
    mine = np.isin(truth, c.left_out)
    if not mine.any():
        return dict.fromkeys(PAIR_FIGURES)
    homeless = mine & alone
    # Per left-out theme with surfaced units: the share of them in its largest candidate.
    shares, main = [], {}
    for theme in c.left_out:
        found = pred[(truth == theme) & new]
        if len(found):
            values, counts = np.unique(found, return_counts=True)
            shares.append(counts.max() / len(found))
            main[theme] = values[counts.argmax()]
    candidates = set(pred[new].tolist())
    return {
        "surfaced": float(new[mine].mean()),
        "homeless": float(new[homeless].mean()) if homeless.any() else None,
        "one_group": float(np.mean(shares)) if shares else None,
        "grouped": ari(truth[new], pred[new]) if len(candidates) >= 2 else None,
        "others": float(new[~mine].mean()),
        "known": float((hit & ~new)[~mine].mean()),
        # Two left-out themes, both surfaced: whether their largest candidates differ (a merge is "not apart",
        # which the ARI, defined only where two candidates appear, does not count).
        "apart": float(len(set(main.values())) == 2) if len(main) == 2 else None,
    }


def mean_over_themes(codings: list[Coded], units: np.ndarray | None = None) -> dict[str, float | None]:
    """The mean of each figure over the left-out themes that have one (n/a ones are left out)."""
    return mean_of_rows([per_theme(c, units) for c in codings])


def bootstrap(codings: list[Coded], n_boot: int, seed: int = 0) -> dict[str, tuple[float, float] | None]:
    """95% percentile interval of each mean over resamples of the round's units (one resample for all themes)."""
    rng = np.random.default_rng(seed)
    n = len(codings[0].truth)
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        for key, value in mean_over_themes(codings, rng.integers(0, n, n)).items():
            if value is not None:
                draws.setdefault(key, []).append(value)
    return {key: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for key, v in draws.items()}


class Loto:
    """The runs of the protocol on one bench (round, gold, cached embedder) with one new-theme rule."""

    def __init__(self, bench: Bench, rule: str = "current", pairs: bool = False) -> None:
        from pipeline.themes.codebook import load_codebook

        self.bench = bench
        self.rule = rule
        self.book = load_codebook()
        self.ids = list(self.book.ids)
        # What each run leaves out: every theme, or (``pairs``) every two themes, as a round raising two
        # concerns the codebook lacks.
        self.left_outs = list(itertools.combinations(self.ids, 2 if pairs else 1))
        self._fits: dict[tuple, list[Coded]] = {}

    def model(self, book, **params):
        return rule_model(self.rule)(self.bench.embedder, book, seed=0, **self.bench.tokenizers, **params)

    def fitted(self, name: str) -> list[Coded]:
        units = self.bench.set_units(name)
        key = tuple((u.text, u.agenda, u.question) for u in units)
        if key not in self._fits:
            self._fits[key] = [coded(self.bench.gold, units, self.model(drop_theme(self.book, *x)).fit(units)
                                     .assignments_, *x) for x in self.left_outs]
        return self._fits[key]

    def assigned(self) -> dict[str, list[Coded]]:
        """Fit on the round without X's units, with the codebook without X; assign the whole round (X: each
        of :attr:`left_outs`)."""
        from pipeline.themes.store import load_model, save_model

        units = self.bench.units
        plain = parse_text(paragraphs(units), "plain")
        gold_of = {i: row["theme_id"] for row, i in match_units(self.bench.gold, [u.text for u in units])[0]}
        out: dict[str, list[Coded]] = {name: [] for name in ASSIGN_SETS}
        for x in self.left_outs:
            before = [u for i, u in enumerate(units) if gold_of.get(i) not in x]
            model = self.model(drop_theme(self.book, *x)).fit(before)
            with tempfile.TemporaryDirectory() as tmp:
                save_model(model, Path(tmp) / "model")
                loaded = load_model(Path(tmp) / "model", embedder=self.bench.embedder)
            as_rule(loaded, self.rule)
            for name, round_units in (("assign", units), ("assign_no_headings", plain)):
                out[name].append(coded(self.bench.gold, round_units, loaded.predict_open(round_units)[0], *x))
        return out

    def anchor(self, name: str, threshold: float) -> list[Coded]:
        """BERTopic's zero-shot topic modelling at ``zeroshot_min_similarity`` = ``threshold``."""
        units = self.bench.set_units(name)
        vectors = np.asarray(self.model(self.book).embed(units))
        return [coded(self.bench.gold, units, zero_shot(drop_theme(self.book, *x), units, vectors, threshold,
                                                        self.bench.embedder), *x) for x in self.left_outs]


    def where(self, name: str = "bundled") -> list[list]:
        """Per left-out theme on set ``name``: where its units went, with what evidence (:func:`where_table`'s rows).

        A unit not surfaced is counted under the codebook theme it took, and whether its gold ``accept``
        names that theme; every unit of the theme under its evidence: a candidate (positive), undecided,
        or fitting the codebook (at most ``-veto``: a unit that keeps a group from being new)."""
        units = self.bench.set_units(name)
        pairs, _ = match_units(self.bench.gold, [u.text for u in units])
        rows = []
        for x in self.ids:
            model = self.model(drop_theme(self.book, x)).fit(units)
            finder = model.finder_
            mine = [(row, i) for row, i in pairs if row["theme_id"] == x]
            went: dict[str, list[int]] = {}
            evidence = [0, 0, 0]
            for row, i in mine:
                a = model.assignments_[i]
                if not is_new_theme(a.theme_id, a.theme_source):
                    went.setdefault(a.theme_id, [0, 0])
                    went[a.theme_id][0] += 1
                    went[a.theme_id][1] += a.theme_id in row["accept"].split(";")
                score = -np.inf if finder is None else finder.novelty_[i]
                evidence[0 if score > 0 else 2 if finder is None or score <= -finder.veto else 1] += 1
            surfaced = len(mine) - sum(n for n, _ in went.values())
            ranked = sorted(went.items(), key=lambda kv: (-kv[1][0], kv[0]))
            took = ", ".join(f"{t} {n} ({ok} accepted)" for t, (n, ok) in ranked)
            rows.append([x, len(mine), surfaced, took, evidence])
        return rows


def where_table(rows: list[list]) -> dict:
    columns = [Column("left out"), figure("units", "{}"), figure("surfaced", "{}"),
               Column("the others took (gold accepts it)"), figure("candidate / undecided / fits", "{} / {} / {}")]
    return table(columns, rows)


def zero_shot(book, units, vectors: np.ndarray, threshold: float, embedder) -> list:
    """Assignments by BERTopic's zero-shot rule: a unit takes its nearest ``label: description`` topic when
    their cosine reaches ``threshold`` (``zeroshot_min_similarity``), else it is clustered (a new theme).

    The split is BERTopic's ``_zeroshot_topic_modeling`` (cosine of the documents' embeddings to the
    topics' embeddings, argmax, threshold), computed here because a fitted BERTopic renumbers its topics
    by size when every document is assigned, which loses which zero-shot topic each one took; the
    units left over are clustered as BERTopic would with the discovery step's k-means.
    """
    from pipeline.core.records import Assignment
    from pipeline.themes.clustering import AutoKMeans

    topics = np.asarray(embedder.encode([f"{t.label}: {t.description}" for t in book.themes], kind="query"))
    sims = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (
        topics / np.linalg.norm(topics, axis=1, keepdims=True)).T
    left = np.flatnonzero(sims.max(axis=1) < threshold)
    clusters = AutoKMeans(min_cluster_size=3).fit(vectors[left]).labels_ if len(left) else []
    found = dict(zip(left.tolist(), clusters, strict=True))
    return [Assignment(u.rec_id, f"new_theme_{found[i] + 1:02d}", "", 1.0, "discovered") if i in found else
            Assignment(u.rec_id, book.themes[int(sims[i].argmax())].theme_id, "", 1.0, "codebook")
            for i, u in enumerate(units)]


def _cell(value: float | None, interval: tuple[float, float] | None = None, fmt: str = "{:.2f}"):
    """A figure in ``fmt``, with its interval where there is one; n/a where the figure is undefined."""
    if value is None:
        return "n/a"
    return cell([value, *interval], INTERVAL) if interval else cell(value, fmt)


def _figures(pairs: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The figures and their labels, of one theme left out or of two."""
    return (PAIR_FIGURES, PAIR_LABELS) if pairs else (FIGURES, LABELS)


def summary_table(summaries: dict[str, tuple[dict, dict]], pairs: bool = False) -> dict:
    """One row per set (or anchor): the means over the left-out themes (or pairs) with their intervals."""
    keys, labels = _figures(pairs)
    columns = [Column("set"), *(figure(label, INTERVAL) for label in labels)]
    return table(columns, [[name, *(_cell(mean[k], ci.get(k)) for k in keys)]
                           for name, (mean, ci) in summaries.items()])


def per_theme_rows(codings: list[Coded]) -> list[dict]:
    """Per left-out theme: its units, homeless units and figures (the rows of :func:`theme_table`)."""
    return [{"left_out": left_out_name(c), "units": int(np.isin(c.truth, c.left_out).sum()),
             "homeless_units": int((np.isin(c.truth, c.left_out) & c.alone).sum()), **per_theme(c)} for c in codings]


def theme_table(codings: list[Coded], mean: dict, ci: dict) -> dict:
    """Per left-out theme (or pair), then the mean of them all with its intervals."""
    keys, labels = _figures(len(codings[0].left_out) > 1)
    columns = [Column("left out"), figure("units", "{}"), figure("homeless", "{}"),
               *(figure(label, "{:.2f}") for label in labels)]
    rows = [[r["left_out"], r["units"], r["homeless_units"], *(_cell(r[k]) for k in keys)]
            for r in per_theme_rows(codings)]
    rows.append([f"**mean of {len(codings)}**", None, None, *(_cell(mean[k], ci.get(k)) for k in keys)])
    return table(columns, rows)


def mean_of_rows(rows: list[dict]) -> dict[str, float | None]:
    """The mean of each figure over ``rows`` (:func:`per_theme`'s, or :func:`per_theme_rows`' as saved), the rows
    without it (n/a) left out."""
    out = {}
    for key in PAIR_FIGURES:
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    return out


def compare_table(means: dict[str, dict[str, dict]]) -> dict:
    """Sets down, rules across: surfaced / surfaced (homeless) / others to new / known accuracy."""
    rules = list(means)
    sets = list(dict.fromkeys(s for by_set in means.values() for s in by_set))
    fmt = "{:.2f} / {:.2f} / {:.3f} / {:.2f}"
    rows = [[name, *([means[r][name][k] for k in ("surfaced", "homeless", "others", "known")]
                     if name in means[r] else None for r in rules)] for name in sets]
    return table([Column("set"), *(figure(r, fmt) for r in rules)], rows)


def new_round_rows(bench: Bench, rule: str, anchors: list[float]) -> list[list]:
    """``run``, ``assign`` (model fitted on the bundled round) with ``rule`` on the synthetic
    new-concerns rounds (headed and as plain paragraphs), or with ``anchors``, the zero-shot anchor."""
    from pipeline.read.rounds import load_units
    from pipeline.themes.codebook import load_codebook

    book = load_codebook()
    loto = Loto(bench, rule)
    model = loto.model(book).fit(bench.units)
    rows = []
    for name, path in NEW_ROUNDS.items():
        gold = read_gold(path.with_name(path.stem + "_gold.csv"))
        headed = load_units([path])
        for variant, units in (("", headed), (" (no headings)", parse_text(paragraphs(headed), f"{name}_plain"))):
            if anchors:
                vectors = np.asarray(loto.model(book).embed(units))
                modes = [(f"anchor {t:g}", zero_shot(book, units, vectors, t, bench.embedder)) for t in anchors]
            else:
                modes = [("run", loto.model(book).fit(units).assignments_), ("assign", model.predict_open(units)[0])]
            for mode, assignments in modes:
                pairs, _ = match_units(gold, [u.text for u in units])
                got = [assignments[i] for _, i in pairs]
                accept = [set(row["accept"].split(";")) | {row["theme_id"]} for row, _ in pairs]
                r = new_theme_agreement([row["theme_id"] for row, _ in pairs], [a.theme_id for a in got],
                                        [is_new_theme(a.theme_id, a.theme_source) for a in got],
                                        [a.theme_id in ok for a, ok in zip(got, accept, strict=True)], set(book.ids))
                rows.append([f"{name}{variant}", mode, r["known_accuracy"],
                             [round(r["surfaced"] * r["n_new_gold"]), r["n_new_gold"]], r["new_themes_found"],
                             "n/a" if r["grouped_ari"] is None else r["grouped_ari"], r["known_to_new"]])
    return rows


def new_round_table(rows: list[list]) -> dict:
    columns = [Column("round"), Column("mode"), figure("known accuracy", "{:.2f}"),
               figure("new units surfaced", "{}/{}"), figure("candidates", "{}"), figure("grouped (ARI)", "{:.2f}"),
               figure("known units to new", "{}")]
    return table(columns, rows)


NOTE = ("Means over the ten left-out themes [95% bootstrap interval, {boot:,} resamples over the round's 52 units]. "
        "`surfaced (homeless)`: the same over the units whose gold `accept` names no theme still in the codebook "
        "(nine themes have one). `grouped`: only where two or more candidates appear.")
PAIR_NOTE = ("Means over the 45 pairs of left-out themes [95% bootstrap interval, {boot:,} resamples over the "
             "round's 52 units]. `surfaced`: the share of both themes' units put in a candidate; `one group`: per "
             "left-out theme, the share of its surfaced units in its largest candidate; `grouped (ARI)`: candidate "
             "against gold theme over the units in a candidate, only where two or more candidates appear (the "
             "issue's figure); `kept apart`: where both themes surfaced, whether their largest candidates differ "
             "(a merge of the two counts here, not in the ARI).")


COMPARE_NOTE = ("Each cell: surfaced / surfaced (homeless) / others to new / known accuracy, means over the ten "
                "left-out themes, from each rule's block `loto-<rule>` (its stamp says when it was measured).")
WHERE_NOTE = ("`the others took`: the codebook theme each unit not surfaced took, with how many of those the gold "
              "coding also accepts there. `candidate / undecided / fits`: the theme's units by their evidence "
              "(positive; between; at most minus the veto, a unit that keeps a group from being new).")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", default=["current"], choices=sorted(RULES),
                        help="new-theme rules to measure (bench.lib.openset_rules.RULES)")
    parser.add_argument("--sets", nargs="+", default=[*FITTED_SETS, *ASSIGN_SETS],
                        choices=[*FITTED_SETS, *ASSIGN_SETS])
    parser.add_argument("--anchor", nargs="*", type=float, default=[],
                        help="BERTopic zeroshot_min_similarity values to run as the anchor (on bundled, no_headings)")
    parser.add_argument("--new-rounds", action="store_true", help="also score the synthetic new-concerns rounds")
    parser.add_argument("--compare", nargs="+", default=[], choices=sorted(RULES), metavar="NAME",
                        help="record the means of these rules side by side (block loto-compare), from this run "
                             "or from their saved blocks")
    parser.add_argument("--where", action="store_true",
                        help="instead: record where each left-out theme's units went, on the bundled round, per rule")
    parser.add_argument("--pairs", action="store_true",
                        help="leave every two themes out instead of one (blocks ltto-*): two concerns the codebook "
                             "lacks in one round, where the candidates' grouping (ARI) is defined")
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap resamples")
    add_output_options(parser)
    args = parser.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    bench = Bench()
    if args.where:
        for rule in args.config:
            title = f"Where each left-out theme's units went, rule `{rule}`, bundled round"
            recorder.record(f"loto-where-{rule}", title, [where_table(Loto(bench, rule).where()), text(WHERE_NOTE)])
        return
    # Leaving two themes out is its own protocol, recorded in its own blocks.
    prefix, what = ("ltto", "Leave two themes out") if args.pairs else ("loto", "Leave one theme out")
    means: dict[str, dict[str, dict]] = {}
    for rule in args.config:
        loto = Loto(bench, rule, pairs=args.pairs)
        results: dict[str, list[Coded]] = {name: loto.fitted(name) for name in args.sets if name in FITTED_SETS}
        if any(name in ASSIGN_SETS for name in args.sets):
            results.update({k: v for k, v in loto.assigned().items() if k in args.sets})
        summaries = {name: (mean_over_themes(c), bootstrap(c, args.boot)) for name, c in results.items()}
        means[rule] = {name: mean for name, (mean, _) in summaries.items()}
        first = next(iter(results))
        body = [summary_table(summaries, args.pairs), text((PAIR_NOTE if args.pairs else NOTE).format(boot=args.boot)),
                text(f"Per left-out theme, {first} (`homeless`: its units whose gold `accept` names it alone):"),
                theme_table(results[first], *summaries[first])]
        recorder.record(f"{prefix}-{rule}", f"{what}, rule `{rule}`", body,
                        data={name: per_theme_rows(c) for name, c in results.items()})
        if args.new_rounds and not args.pairs:
            recorder.record(f"loto-new-rounds-{rule}", f"New-concerns rounds, rule `{rule}`",
                            [new_round_table(new_round_rows(bench, rule, []))])
    if args.compare:
        saved = load(args.results / "loto.json")["blocks"]
        for rule in args.compare:
            if rule not in means:
                if f"{prefix}-{rule}" not in saved:
                    raise SystemExit(f"--compare {rule}: no block {prefix}-{rule} in {args.results}; "
                                     f"run --config {rule}")
                means[rule] = {name: mean_of_rows(rows) for name, rows in saved[f"{prefix}-{rule}"]["data"].items()}
        recorder.record(f"{prefix}-compare", f"{what}, rules side by side",
                        [compare_table({rule: means[rule] for rule in args.compare}), text(COMPARE_NOTE)])
    if args.anchor:
        anchors = {f"anchor {t:g} ({name})": Loto(bench, pairs=args.pairs).anchor(name, t)
                   for t in args.anchor for name in ("bundled", "no_headings")}
        body = [summary_table({name: (mean_over_themes(c), bootstrap(c, args.boot)) for name, c in anchors.items()},
                              args.pairs)]
        if args.new_rounds and not args.pairs:
            body += [text("New-concerns rounds:"), new_round_table(new_round_rows(bench, "current", args.anchor))]
        recorder.record(f"{prefix}-anchor", f"BERTopic's zero-shot rule, {what.lower()}", body)


if __name__ == "__main__":
    main()
