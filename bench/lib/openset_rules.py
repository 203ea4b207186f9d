"""New-theme rules a study can measure side by side: the code's own, the one it replaced, and alternatives.

A rule is a name for a way of finding a round's new themes (:mod:`pipeline.themes.openset`). ``current``
is whatever the code does; every other rule is a :class:`~pipeline.themes.model.ThemeModel` subclass
whose new-theme step judges other fits, groups in another space or runs
:class:`~pipeline.themes.openset.NewThemeFinder` with other parameters, so a study fits, saves, loads
(:func:`as_rule`) and assigns with it as with the code's model. ``bench.quality.loto --config NAME`` and
``bench.quality.stress --param new_theme_rule=NAME`` take these names. :data:`CHAIN` goes from the rule
of issue 20 to the code's, one change at a time; the other rules change one thing of the code's (of
the code's when they were measured: their blocks' stamps say which; ``triples`` is the default before
pairs were vouched for and on).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.covariance import LedoitWolf
from sklearn.preprocessing import normalize

from pipeline.themes.clustering import LexicalSpace
from pipeline.themes.model import ThemeModel
from pipeline.themes.openmodel import codebook_terms, text_fits
from pipeline.themes.openset import NewThemeFinder, leave_one_out
from pipeline.themes.scorer import rows_unit


@dataclass(frozen=True)
class Rule:
    """What a rule judges and how: ``fits`` ("text": of the unit's text alone, "context": with its headings,
    "support": the better of the two), ``terms`` the grouping space's Kiwi terms ("keyword": stopwords
    removed, "cluster": kept), ``drop`` a kind of evidence left out ("lexical", "semantic" or None),
    ``finder`` the :class:`NewThemeFinder` parameters that differ from the code's, ``space`` the grouping
    space's sentence vectors ("text": as the code; "residual": with the span of the codebook's prototypes
    projected out, what the codebook does not explain; "wccn": whitened by the within-theme covariance of the
    units that fit the codebook; "terms": a third each of text vectors, term TF-IDF and the TF-IDF-weighted
    mean of the terms' own vectors; "term_tree": the dendrogram in "terms"' space, every test in the code's)
    and ``boundary`` what a group must be apart from
    ("units": the code's, every unit that fits the codebook; "centroids": each member closer to the rest of
    the group than to the centroid of any codebook theme's fitting units; "either": one of the two;
    "calibrated": the members' mean margin, closeness to the rest of the group less closeness to the nearest
    theme centroid, at least the median of the same margin of the codebook themes' fitting units, per round;
    "contest": every fitting unit but those nearer the group's centre than the rest of their own theme)
    ``pool`` the units the dendrogram groups ("candidates": the code's; "undecided": the undecided units
    too, a group holding when more than half of its members are candidates) and ``vouch`` whom a pair's
    vouching term must be foreign to ("fitting": the code's, every unit that fits the codebook; "round":
    every other unit of the round); ``balls`` (0: none) the most nearest candidates a free candidate is
    tried with as a group after the dendrogram's, and ``mutual`` whether each member of such a group must
    have its nearest unit in it (issue 20's ninth pass); ``program_terms`` whether program names stay among
    the grouping space's terms, and ``trim`` which members of a group of three or more leave it when nearer
    their own theme's fitting units than the rest of the group ("": none; "all"; "weak": those whose evidence
    is less than substantial; issue 20's tenth pass); ``promote`` whether the candidates are then coded as
    promoted themes (:meth:`~pipeline.themes.openmodel.NewThemeSteps._code_candidates_as_themes`; issue 20's
    eleventh pass; rules measured before it ran without), ``join`` which units may take a promoted candidate
    ("unfit": the code's, every unit that does not fit the codebook; "any": every unit, as a rerun after
    promotion; "candidates": the finder's candidates), ``passes`` and ``refind`` the model's
    ``promotion_passes`` and ``promotion_refind``."""

    about: str
    fits: str = "text"
    terms: str = "keyword"
    drop: str | None = None
    finder: dict = field(default_factory=dict)
    space: str = "text"
    boundary: str = "units"
    pool: str = "candidates"
    vouch: str = "fitting"
    balls: int = 0
    mutual: bool = False
    program_terms: bool = True
    trim: str = ""
    promote: bool = True
    join: str = "unfit"
    passes: int = 1
    refind: bool = False


_OLD = {"min_size": 3, "veto": 0.0, "grouping": "kmeans"}
RULES: dict[str, Rule] = {
    "current": Rule("the code's defaults"),
    "issue20": Rule("the rule of issue 20 (code e8d056d): fits in context, k-means seeds settled, every unit that "
                    "is not a candidate vetoes, terms with stopwords", "context", "cluster", finder=_OLD),
    "text_fits": Rule("issue20, judged on the fits of the text alone", "text", "cluster", finder=_OLD),
    "tree": Rule("text_fits, groups from the dendrogram", "text", "cluster", finder={**_OLD, "grouping": "tree"}),
    "veto": Rule("tree, only units known at a likelihood ratio of 3 veto", "text", "cluster",
                 finder={"min_size": 3, "grouping": "tree"}),
    "pairs": Rule("current, and groups of two (min_new_theme_size=2), not vouched for",
                  finder={"min_size": 2, "pair_vouch": False}),
    "loose_pairs": Rule("pairs, a pair needing no more evidence than a larger group",
                        finder={"min_size": 2, "pair_evidence": 0.0, "pair_vouch": False}),
    "vouched_pairs": Rule("groups of two vouched for: raised by two members, or sharing a term no other unit of "
                          "the round and no codebook theme uses (the code's default from then until gathering, "
                          "`ungathered`; with today's code it is `current`)",
                          finder={"min_size": 2}),
    "triples": Rule("the code's default before vouched pairs (code baf0237): groups of three at least",
                    finder={"min_size": 3}),
    "ungathered": Rule("the code's default before candidates left over were gathered and a pair's vouching term "
                       "was one no fitting unit uses (code 0de8997): no gathering, a term no other unit uses",
                       finder={"gather": False}, vouch="round"),
    "round_vouch": Rule("current, a pair's vouching term one that no other unit of the round uses (not only no "
                        "unit that fits the codebook)", vouch="round"),
    "undecided": Rule("current, undecided units in the dendrogram too, a group holding when more than half of "
                      "its members are candidates", pool="undecided"),
    "undecided_w55": Rule("undecided, the text weight at 0.55", finder={"text_weight": 0.55}, pool="undecided"),
    "current_w55": Rule("current, the text weight at 0.55", finder={"text_weight": 0.55}),
    "headings": Rule("current, judged on the fits in context (headings as evidence)", "context"),
    "headings_support": Rule("current, each fit the better of in context and of the text alone", "support"),
    "veto_all": Rule("current, every unit that is not a candidate vetoes", finder={"veto": 0.0}),
    "veto_10": Rule("current, vetoes at a likelihood ratio of 10", finder={"veto": math.log(10.0)}),
    "kmeans": Rule("current, k-means seeds settled instead of the dendrogram", finder={"grouping": "kmeans"}),
    "residual": Rule("current, grouped with the codebook's prototypes projected out of the text vectors",
                     space="residual"),
    "residual_pairs": Rule("residual and vouched_pairs", finder={"min_size": 2}, space="residual"),
    "centroids": Rule("current, a group apart from each codebook theme's centroid rather than from every unit",
                      boundary="centroids"),
    "centroids_or_units": Rule("current, a group apart from every fitting unit or from every theme centroid",
                               boundary="either"),
    "calibrated": Rule("vouched_pairs, a group's margin over its nearest theme centroid at least the median "
                       "margin of the round's codebook themes", finder={"min_size": 2}, boundary="calibrated"),
    "balls_strict": Rule("current, and then each free candidate with its 2-4 nearest free candidates as a group, "
                         "when every member's evidence is substantial and two members raised it", balls=4),
    "balls_mutual": Rule("balls_strict, and every member's nearest unit of the round is in the group (the pair "
                         "test's, for a larger group)", balls=4, mutual=True),
    "wccn": Rule("current, the text vectors whitened by the round's within-theme covariance (units that fit the "
                  "codebook, Ledoit-Wolf shrunk): what varies inside a known theme weighs less", space="wccn"),
    "contest": Rule("current, a unit that fits the codebook vetoes a group only when it is nearer the rest of its "
                     "theme's fitting units than the group's centre (a theme with no other fitting unit: always)",
                     boundary="contest"),
    "no_programs": Rule("current, the grouping space without the terms of program names (a theme cuts across "
                         "programs: a shared program says which program, not which concern)", program_terms=False),
    "term_vectors": Rule("current, the grouping space a third each of the text vectors, the TF-IDF of Kiwi terms "
                          "and the TF-IDF-weighted mean of the terms' own sentence vectors (words alike, not only "
                          "the same word)", space="terms"),
    "term_tree": Rule("current, the dendrogram built in term_vectors' space, every test in the code's",
                      space="term_tree"),
    "trim": Rule("current, a member nearer its own codebook theme's fitting units than the rest of its group "
                 "leaves it, and the rest must hold again", trim="all"),
    "trim_weak": Rule("trim, only members whose evidence of being new is less than substantial", trim="weak"),
    "unpromoted": Rule("current, the candidates as the finder groups them, not coded as promoted themes (the "
                       "code's default before issue 20's eleventh pass)", promote=False),
    "promoted_candidates": Rule("current, only the finder's candidates may take a promoted candidate",
                                join="candidates"),
    "promoted_any": Rule("current, every unit may take a promoted candidate, as a rerun after promotion (the code's "
                         "default in issue 20's eleventh pass until 07681c1)", join="any"),
    "promoted_refind": Rule("promoted_any, and the units no candidate took are looked at again for groups, promoted in "
                            "turn (two promotions; three gave the same)", passes=2, refind=True, join="any"),
    "promoted_refind_candidates": Rule("promoted_refind and promoted_candidates", passes=2, refind=True,
                                       join="candidates"),
    "semantic_only": Rule("current, the evidence of the sentence vectors alone", drop="lexical"),
    "lexical_only": Rule("current, the evidence of the Kiwi terms alone", drop="semantic"),
}
#: From the rule of issue 20 to the code's, one change at a time.
CHAIN = ("issue20", "text_fits", "tree", "veto", "current")


@functools.cache
def rule_model(name: str) -> type[ThemeModel]:
    """The model class that finds new themes by rule ``name`` (one class per name)."""
    if name not in RULES:
        raise KeyError(f"unknown new-theme rule {name!r}; known: {', '.join(RULES)}")
    if name == "current":
        return ThemeModel
    rule = RULES[name]

    class RuleModel(ThemeModel):
        def _find_new_themes(self, scorer, terms, embeddings, center, text_embeddings, members=None) -> NewThemeFinder:
            semantic, lexical = scorer.channels(terms.keyword, embeddings, center)
            labels = scorer.blend(semantic, lexical).argmax(axis=1)
            text = text_fits(scorer, text_embeddings)
            fits = {"context": semantic, "text": text, "support": np.maximum(semantic, text)}[rule.fits]
            if rule.drop == "lexical":
                lexical = np.zeros_like(lexical)  # no spread: the kind of evidence adds nothing
            elif rule.drop == "semantic":
                fits = np.zeros_like(fits)
            finder = _RuleFinder(**{"min_size": self.min_new_theme_size, "seed": self.seed, **rule.finder})
            finder.rule, finder.prototypes = rule, scorer.raw_prototypes_
            finder.embedder = self.embedder
            grouping_terms = getattr(terms, rule.terms)
            if not rule.program_terms:
                dropped = _program_terms(self._tokenizers()[1])
                grouping_terms = [[t for t in ts if t not in dropped] for ts in grouping_terms]
            return finder.fit(fits, lexical, labels, text_embeddings, grouping_terms, members,
                              codebook_terms(scorer))

        promotion_passes, promotion_refind = rule.passes, rule.refind

        def _joinable(self, finder) -> np.ndarray:
            if rule.join == "any":
                return np.ones(len(finder.novelty_), dtype=bool)
            return finder.novelty_ > 0 if rule.join == "candidates" else super()._joinable(finder)

        def _code_candidates_as_themes(self, finder, *args, **kwargs) -> NewThemeFinder:
            return super()._code_candidates_as_themes(finder, *args, **kwargs) if rule.promote else finder

    RuleModel.__name__ = RuleModel.__qualname__ = f"ThemeModel_{name}"
    return RuleModel


def _program_terms(tokenizer) -> set[str]:
    """The program registry's names and aliases that Kiwi keeps whole (one term: a proper name, where a
    longer name's words, 홍보 or 창업, are words of themes too)."""
    from pipeline.read.programs import ProgramRegistry

    names = [n for p in ProgramRegistry.load().programs.values() for n in (p.name, *p.aliases) if n]
    return {ts[0] for ts in tokenizer.tokenize_batch(names) if len(ts) == 1}


class _RuleFinder(NewThemeFinder):
    """:class:`NewThemeFinder` with a rule's grouping space and boundary (its ``rule`` and the scorer's
    uncentred ``prototypes`` are set after construction)."""

    rule: Rule
    prototypes: np.ndarray

    def fit(self, semantic, lexical, labels, *args, **kwargs) -> NewThemeFinder:
        self._labels, self._centroids = np.asarray(labels), None
        return super().fit(semantic, lexical, labels, *args, **kwargs)

    def features(self, text_vectors, cluster_terms):
        if self.rule.space == "text":
            return super().features(text_vectors, cluster_terms)
        text = np.asarray(text_vectors, dtype=np.float64)
        if self.rule.space == "terms":
            return self.with_term_vectors(text, cluster_terms)
        if self.rule.space == "term_tree":
            self._order = self.with_term_vectors(text, cluster_terms)
            return super().features(text_vectors, cluster_terms)
        if self.rule.space == "wccn":
            return super().features(self.whitened(text), cluster_terms)
        mean = text.mean(axis=0)
        basis, _ = np.linalg.qr((self.prototypes - mean).T)
        centred = text - mean
        # The residual's mean is zero, so the code's own centring leaves it as it is.
        return super().features(centred - (centred @ basis) @ basis.T, cluster_terms)

    def with_term_vectors(self, text, cluster_terms):
        """A third each: centred text vectors, TF-IDF of terms, TF-IDF-weighted mean of term vectors."""
        space = LexicalSpace().fit(cluster_terms)
        lexical = space.transform(cluster_terms)
        if space.vocabulary_:
            vectors = np.asarray(self.embedder.encode(space.vocabulary_, kind="query"), dtype=np.float64)
            vectors = rows_unit(vectors - vectors.mean(axis=0))
            # The space's IDF on raw counts (its own TF is sublinear): a term said twice weighs twice.
            weights = np.zeros((len(cluster_terms), len(space.vocabulary_)))
            for i, ts in enumerate(cluster_terms):
                for t in ts:
                    weights[i, space.index_[t]] += space.idf_[space.index_[t]]
            keyed = rows_unit(weights @ vectors)
            keyed = rows_unit(keyed - keyed.mean(axis=0))
        else:
            keyed = np.zeros((len(cluster_terms), 1))
        semantic = rows_unit(text - text.mean(axis=0))
        third = math.sqrt(1.0 / 3.0)
        return normalize(hstack([csr_matrix(third * semantic), third * lexical, csr_matrix(third * keyed)],
                                format="csr"))

    def whitened(self, text):
        """``text`` centred and whitened by the Ledoit-Wolf within-theme covariance of the fitting units."""
        centred = text - text.mean(axis=0)
        fitting = np.flatnonzero(self.novelty_ <= -self.veto)
        themes = [fitting[self._labels[fitting] == k] for k in np.unique(self._labels[fitting])]
        themes = [t for t in themes if len(t) >= 2]
        if len(themes) < 2:
            return centred
        resid = np.vstack([centred[t] - centred[t].mean(axis=0) for t in themes])
        cov = LedoitWolf(assume_centered=True).fit(resid).covariance_
        values, vectors = np.linalg.eigh(cov)
        return centred @ vectors @ np.diag(1.0 / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T

    def _vouched(self, a, b) -> bool:
        if self.rule.vouch == "fitting":
            return super()._vouched(a, b)
        if self._members[a] and self._members[b] and self._members[a] != self._members[b]:
            return True
        others = {t for i, terms in enumerate(self._terms) if i not in (a, b) for t in terms}
        return bool(self._terms[a] & self._terms[b] - self._known_terms - others)

    def _tree_groups(self, features, candidates, vetoes):
        if self.rule.pool == "undecided":
            candidates = np.flatnonzero(self.novelty_ > -self.veto)
        groups = super()._tree_groups(features, candidates, vetoes)
        if self.rule.trim:
            groups = [g for g in (self._trimmed(features, g, vetoes) for g in groups) if g is not None]
        return groups + self._balls(features, candidates, vetoes, groups) if self.rule.balls else groups

    def _trimmed(self, features, members, vetoes):
        """``members`` without those nearer the centroid of their own theme's fitting units than the rest of the
        group; None when what is left does not hold."""
        if len(members) < 3:  # a pair has passed a member's test already: each other's nearest unit
            return members
        total = np.asarray(features[members].sum(axis=0)).ravel()
        to_rest = leave_one_out(features, members, total)
        fitting = self.novelty_ <= -self.veto
        centroids = dict(zip(np.unique(self._labels[fitting]).tolist(), self.theme_centroids(features), strict=True))
        keep = np.ones(len(members), dtype=bool)
        for j, u in enumerate(members):
            if int(self._labels[u]) in centroids:
                own = float(np.asarray(features[u] @ centroids[int(self._labels[u])]).ravel()[0])
                keep[j] = to_rest[j] > own or (self.rule.trim == "weak" and self.novelty_[u] >= self.pair_evidence)
        if keep.all():
            return members
        rest = members[keep]
        return rest if self._holds(features, rest, vetoes) else None

    def _tree_rows(self, features, candidates):
        """``term_tree``: the dendrogram built in ``term_vectors``' space (``self._order``)."""
        return self._order[candidates] if self.rule.space == "term_tree" else features[candidates]

    def _balls(self, features, candidates, vetoes, groups):
        """``rule.balls``: groups the dendrogram never makes, each free candidate with its m nearest free
        candidates (m = 2 .. ``rule.balls``), kept when every member's evidence is substantial, two members
        raised it (``rule.mutual``: and every member's nearest unit of the round is one of them) and it holds
        against the fitting units; the largest, then the tightest, first, without overlap."""
        taken = np.concatenate(groups) if groups else np.zeros(0, dtype=int)
        free = np.setdiff1d(candidates, taken)
        if len(free) < 3:
            return []
        sims = (features[free] @ features[free].T).toarray()
        np.fill_diagonal(sims, -np.inf)
        found = []
        for a in range(len(free)):
            order = np.argsort(-sims[a], kind="stable")
            for m in range(2, min(self.rule.balls, len(free) - 1) + 1):
                members = np.sort(free[np.r_[a, order[:m]]])
                if (self.novelty_[members].min() < self.pair_evidence
                        or len({self._members[i] for i in members} - {""}) < 2):
                    continue
                if self.rule.mutual:
                    near = (features @ features[members].T).toarray()
                    near[members, np.arange(len(members))] = -np.inf
                    if not np.isin(near.argmax(axis=0), members).all():
                        continue
                if self._holds(features, members, vetoes):
                    total = np.asarray(features[members].sum(axis=0)).ravel()
                    found.append((len(members), float(leave_one_out(features, members, total).min()), members))
        out, used = [], set()
        for _, _, members in sorted(found, key=lambda f: (-f[0], -f[1], tuple(f[2]))):
            if used.isdisjoint(members.tolist()):
                out.append(members)
                used.update(members.tolist())
        return out

    def _holds(self, features, members, others, smallest=0) -> bool:
        if self.rule.pool == "undecided" and not 2 * int((self.novelty_[members] > 0).sum()) > len(members):
            return False
        if self.rule.boundary == "units":
            return super()._holds(features, members, others, smallest)
        if self.rule.boundary == "contest":
            return super()._holds(features, members, self.contested(features, members, others), smallest)
        if self.rule.boundary == "either" and super()._holds(features, members, others, smallest):
            return True
        if len(members) < max(self.min_size, smallest):
            return False
        margin = self.margins(features, members, self.theme_centroids(features))
        if self.rule.boundary == "calibrated":
            if not margin.mean() >= self.calibration(features):
                return False
        elif not (margin > 0).all():
            return False
        return len(members) > 2 or self._pair_holds(features, members)

    def contested(self, features, members, others):
        """``others`` without the fitting units (its first rows) nearer ``members``' centre than the rest of
        their own theme's fitting units."""
        fitting = np.flatnonzero(self.novelty_ <= -self.veto)
        total = np.asarray(features[members].sum(axis=0)).ravel()
        centre = total / max(float(np.linalg.norm(total)), 1e-12)
        to_group = np.asarray(features[fitting] @ centre).ravel()
        keep = np.ones(others.shape[0], dtype=bool)
        for k in np.unique(self._labels[fitting]):
            rows = np.flatnonzero(self._labels[fitting] == k)
            if len(rows) > 1:  # a theme's only fitting unit has no rest to be nearer: it always vetoes
                theme = fitting[rows]
                own = leave_one_out(features, theme, np.asarray(features[theme].sum(axis=0)).ravel())
                keep[rows] = own >= to_group[rows]
        return others[np.flatnonzero(keep)]

    @staticmethod
    def margins(features, members, centroids) -> np.ndarray:
        """Per member: cosine to the rest of ``members`` less cosine to the nearest of ``centroids``."""
        total = np.asarray(features[members].sum(axis=0)).ravel()
        nearest = np.asarray(features[members] @ centroids.T).max(axis=1, initial=-np.inf)
        return leave_one_out(features, members, total) - nearest

    def calibration(self, features) -> float:
        """The median over codebook themes with three fitting units (two themes at least; else +inf) of
        their units' mean margin against the other themes' centroids."""
        centroids, fitting = self.theme_centroids(features), self.novelty_ <= -self.veto
        themes = np.unique(self._labels[fitting])
        margins = [self.margins(features, np.flatnonzero(fitting & (self._labels == k)),
                                np.delete(centroids, j, axis=0)).mean()
                   for j, k in enumerate(themes) if (fitting & (self._labels == k)).sum() >= 3]
        return float(np.median(margins)) if len(margins) >= 2 else np.inf

    def theme_centroids(self, features) -> np.ndarray:
        """Unit-length centroids, per codebook theme, of the units that fit it (evidence at most ``-veto``)."""
        if self._centroids is None:
            fitting = self.novelty_ <= -self.veto
            sums = [np.asarray(features[np.flatnonzero(fitting & (self._labels == k))].sum(axis=0)).ravel()
                    for k in np.unique(self._labels[fitting])]
            self._centroids = np.array([v / max(float(np.linalg.norm(v)), 1e-12) for v in sums]).reshape(
                len(sums), features.shape[1])
        return self._centroids


def as_rule(model: ThemeModel, name: str) -> ThemeModel:
    """A loaded model (``load_model`` makes a plain :class:`ThemeModel`) that finds new themes by rule ``name``."""
    model.__class__ = rule_model(name)
    return model
