"""New themes in codebook mode: the units that fit no codebook theme, grouped into candidate themes.

A round can raise concerns its codebook lacks. The codebook step gives every unit its best theme
however poor the fit (a similarity floor rejected known-theme units that lacked headings, see
:mod:`pipeline.themes.model`), so without this step such units are spread over the codebook's themes
and the round reads as if nothing new was said. :class:`NewThemeFinder` decides which units form
new themes instead, in three steps, each judged against the round itself rather than a tuned constant:

1. **Evidence of each unit** (:func:`novelty`): the log-likelihood ratio that the unit's best fits
   come from a round whose codebook lacks its theme rather than one that has it. Both cases are read
   off the round by leaving each unit's own theme out (a self leave-one-theme-out, no gold coding):
   a unit's fit to the theme it took is what a known unit's fit looks like, and its best fit to any
   *other* theme is what the fit of a unit whose theme is missing looks like. Each kind of evidence
   (centred cosine of the unit's *text* to the prototypes, TF-IDF cosine to the lexical profiles) is a
   Gaussian per case, and the ratio sums the two. The caller hands in the text-only cosines: a heading
   adds its vector to every unit under it, so with it the evidence of a unit moved with its agenda
   (on the bundled round it made a false group of units under one question). The ratio sorts units three
   ways on Jeffreys' scale of evidence: positive, a *candidate* (more likely new than known); at most
   ``-veto`` (known at least "substantially", a likelihood ratio of 3 by default), a unit that *fits
   the codebook*; in between, undecided. One unit's evidence alone does not tell a new concern from a
   weakly phrased known one (on the bundled round's leave-one-theme-out it ranks a left-out theme's
   units above the others with an AUC of about 0.8), so a candidate becomes new only in a group.
2. **Groups**: every group the candidates form in a space that weighs half and half the centred
   sentence vectors of their text alone and the TF-IDF of their Kiwi terms (the caller's: keyword terms,
   without the stopwords of a recommendation's template; text alone, because units under one agenda or
   question share its vector), as the nodes of an average-linkage dendrogram
   (:func:`scipy.cluster.hierarchy.linkage`, deterministic, where k-means' groups moved with the last
   digits of the vectors), read from the top.
3. **Separation**: a group is a new theme when every member is closer to what the other members share
   (the centroid of the rest of the group) than any unit that fits the codebook is to the group's
   centroid, and it has ``min_size`` members (two by default). A group of two must also be each other's
   nearest units in the round, both members' evidence must be at least substantial (``pair_evidence``):
   two units sharing a template's wording (``(3-2-1) … 운영 사업 확대 필요 - (제안사항)``) are otherwise a
   pair; and the pair must be *vouched for* (``pair_vouch``): raised by two members, or sharing a term that
   no unit that fits the codebook and no codebook theme uses. One member's units are worded alike, so
   without the voucher a saved model assigning one member's 9-13 units alone (the leave-one-member-out
   stress sets) made pairs of known units; with it, none. Leaving one theme out of the bundled round,
   vouched pairs surfaced 0.44 of its units against 0.36 with three units at least, and sent no more
   known units to new (``bench/README.md``, "New themes"). The term was first one no other unit of the
   round used; a concern's third unit, undecided, often shares it, and the pair was lost.
   A group that holds is split when both its halves hold on their own, with three members each, against
   the units that fit the codebook and each other (three concerns of a round are three themes, not one;
   two units of a larger group are each other's nearest by chance); one that fails is looked into,
   half by half. Undecided units neither join nor veto: a unit that barely fits the codebook may be one
   of the group's own (leaving a theme out of the bundled round, its weakest unit often was). A group
   that only shares the round's common wording (``서울시-지역 간 …``) has units that fit the codebook as
   near to its centre as its own members and fails.
4. **Gathering**: the dendrogram's nodes follow its order of merging, so a theme's weaker units often sit
   in other branches than its group, beside candidates of other subjects, in nodes that fail. Once found,
   a new theme is a theme like the codebook's: every candidate left over takes the nearest of the new
   themes' centroids and the centroids of the units that fit each codebook theme, and joins the new
   theme when that is the nearest. Leaving one theme out of the bundled round, gathering and the looser
   voucher of step 3 surface 0.55 of the left-out theme's units against 0.44 before (0.55 against 0.41
   without headings), and send 0.02 of the others to new against 0.01 (``bench/README.md``, "New
   themes"). Letting undecided units into the groups as well surfaced 0.60, but only because two
   candidates and an undecided unit passed as a group of three without the tests a pair must pass: with
   the text weight at 0.55 instead of 0.5 it sent nine known units of the bundled round to new with the
   whole codebook (0.16 of the others leaving a theme out), so it was left out (rule ``undecided``).

The theme model then codes each group as the codebook theme its promotion would make of it and codes the
round again (:meth:`pipeline.themes.openmodel.NewThemeSteps._code_candidates_as_themes`), so that a
candidate holds the units whose best theme it is, the units a researcher would find under it after promoting
it (:meth:`NewThemeFinder.regroup` takes those groups).

Units in no accepted group keep their codebook theme, so a round whose units all fit the codebook
loses nothing: on every stress set of ``bench.quality.stress`` (headings removed included) no unit is
sent to a new theme. The dendrogram needs the candidates' pairwise similarities; above
``_TREE_LIMIT`` candidates (a round of several thousand units) the candidates are seeded by
:class:`~pipeline.themes.clustering.AutoKMeans` instead and each seed is moved to where it holds
(members that fail leave it, candidates closer than its members join it), then gathered as in step 4,
which is linear in the units.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np
from scipy.cluster.hierarchy import linkage, to_tree
from scipy.sparse import csr_matrix, hstack, vstack
from scipy.spatial.distance import squareform
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize

from pipeline.themes.clustering import AutoKMeans, LexicalSpace
from pipeline.themes.scorer import rows_unit

#: Theme ids of new-theme candidates: ``new_theme_01``, ``new_theme_02``, … (``theme_source`` ``discovered``).
NEW_THEME_PREFIX = "new_theme_"
#: "Substantial" evidence on Jeffreys' scale: a likelihood ratio of 3, as a log-likelihood ratio.
SUBSTANTIAL = math.log(3.0)
# Separation rounds per k-means seed; seeds settle in two or three on every round measured.
_MAX_ROUNDS = 20
# Candidate sets larger than this many dense cells (16 MB) are seeded on their text vectors alone, so
# that the TF-IDF columns of a large round are never made dense (k-means' cost grows with the width).
_DENSE_CELLS = 2_000_000
# Candidates up to which the groups are the dendrogram's nodes (a candidates x candidates matrix, 8 MB).
_TREE_LIMIT = 1_000


def new_theme_id(number: int) -> str:
    """The id of the ``number``-th new-theme candidate (1-based): ``new_theme_01``."""
    return f"{NEW_THEME_PREFIX}{number:02d}"


def is_new_theme(theme_id: str, source: str) -> bool:
    """Whether a theme is a new-theme candidate (found in a round, not yet in the codebook)."""
    return source == "discovered" and theme_id.startswith(NEW_THEME_PREFIX)


def _log_density(x: np.ndarray, sample: np.ndarray) -> np.ndarray | None:
    """Log density of ``x`` under a Gaussian fitted to ``sample``; None when the sample has no spread."""
    sd = float(sample.std())
    if not sd > 1e-9:
        return None
    mean = float(sample.mean())
    return -0.5 * ((x - mean) / sd) ** 2 - math.log(sd)


def novelty(semantic: np.ndarray, lexical: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per unit, the log-likelihood ratio "its theme is missing from the codebook" : "it is there".

    In: units x themes fits (centred cosine to the prototypes, TF-IDF cosine to the profiles) and each
    unit's codebook theme. The evidence is each unit's best fit per kind; "there" is modelled by the
    round's fits to the theme each unit took, "missing" by its best fit to any other theme (module
    docstring). A kind of evidence without spread in the round adds nothing; with fewer than two units
    or two themes there is no "other theme" and every ratio is ``-inf`` (nothing is new).
    """
    n, k = semantic.shape
    if n < 2 or k < 2:
        return np.full(n, -np.inf)
    rows = np.arange(n)
    ratio = np.zeros(n)
    for fits in (np.asarray(semantic, dtype=np.float64), np.asarray(lexical, dtype=np.float64)):
        others = fits.copy()
        others[rows, labels] = -np.inf
        best = fits.max(axis=1)
        missing, there = _log_density(best, others.max(axis=1)), _log_density(best, fits[rows, labels])
        if missing is not None and there is not None:
            ratio += missing - there
    return ratio


def leave_one_out(features: csr_matrix, members: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Cosine of each member to the sum of the *other* members (``total`` is the sum of all of them)."""
    rows = features[members]
    dots = np.asarray(rows @ total).ravel()
    squares = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
    norms = np.sqrt(np.maximum(float(total @ total) - 2 * dots + squares, 0.0))
    own = dots - squares
    return np.divide(own, norms, out=np.zeros_like(own), where=norms > 1e-12)


class NewThemeFinder(BaseEstimator):
    """Groups of units that fit no codebook theme and share a subject; see the module docstring.

    Parameters: ``min_size`` (members a new theme needs; a group of two needs more, see step 3),
    ``text_weight`` in [0, 1] (share of the text-only sentence vectors, against the TF-IDF of Kiwi
    terms, in the space groups are found and judged in), ``veto`` and ``pair_evidence`` (log-likelihood
    ratios >= 0: how sure a unit must be that it is known to keep a group from being new, and that it
    is new to make a pair one), ``pair_vouch`` (a pair must also be vouched for, :meth:`_vouched`),
    ``gather`` (candidates left over join the new theme they are nearest to, step 4),
    ``grouping`` (``"auto"``: the dendrogram up to ``_TREE_LIMIT`` candidates, else k-means seeds;
    ``"tree"`` or ``"kmeans"`` to force one), ``seed`` (k-means).

    ``fit(semantic, lexical, labels, text_vectors, cluster_terms, members=None, known_terms=())``: the
    units x themes fits (the caller's semantic view, and
    :meth:`~pipeline.themes.scorer.CodebookScorer.channels`' lexical one), the codebook theme per unit,
    each unit's sentence vector of its text alone and its Kiwi terms; for pairs, each unit's member
    ("" where the round does not say) and the terms the codebook's themes use.
    Fitted: ``novelty_`` (per unit, :func:`novelty`), ``groups_`` (member row indices per new theme,
    largest first), ``labels_`` (per unit: its group, -1 for none) and ``scores_`` (a member's cosine to
    the rest of its group, in [0, 1]; 0 elsewhere).
    """

    def __init__(self, min_size: int = 2, text_weight: float = 0.5, veto: float = SUBSTANTIAL,
                 pair_evidence: float = SUBSTANTIAL, pair_vouch: bool = True, gather: bool = True,
                 grouping: str = "auto", seed: int = 0) -> None:
        self.min_size = min_size
        self.text_weight = text_weight
        self.veto = veto
        self.pair_evidence = pair_evidence
        self.pair_vouch = pair_vouch
        self.gather = gather
        self.grouping = grouping
        self.seed = seed

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first parameter out of range."""
        if isinstance(self.min_size, bool) or not isinstance(self.min_size, int) or self.min_size < 2:
            raise ValueError(f"min_size must be an integer >= 2, got {self.min_size!r}")
        if not 0.0 <= self.text_weight <= 1.0:
            raise ValueError(f"text_weight must be in [0, 1], got {self.text_weight}")
        for name in ("veto", "pair_evidence"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be a log-likelihood ratio >= 0, got {getattr(self, name)}")
        if self.grouping not in ("auto", "tree", "kmeans"):
            raise ValueError(f"grouping must be 'auto', 'tree' or 'kmeans', got {self.grouping!r}")

    def fit(self, semantic: np.ndarray, lexical: np.ndarray, labels: np.ndarray, text_vectors: np.ndarray,
            cluster_terms: Sequence[Sequence[str]], members: Sequence[int | str | None] | None = None,
            known_terms: Collection[str] = ()) -> NewThemeFinder:
        """Find the round's new themes; out: self."""
        self.validate()
        labels = np.asarray(labels, dtype=int)
        n = len(labels)
        if not (semantic.shape[0] == lexical.shape[0] == len(text_vectors) == len(cluster_terms) == n):
            raise ValueError("semantic, lexical, labels, text_vectors and cluster_terms must have one row per unit")
        if members is not None and len(members) != n:
            raise ValueError("members must have one entry per unit")
        self._members = [""] * n if members is None else [m or "" for m in members]
        self._terms = [set(t) for t in cluster_terms]
        self._known_terms = set(known_terms)
        self.novelty_ = novelty(semantic, lexical, labels)
        fitting = np.flatnonzero(self.novelty_ <= -self.veto)
        # The terms of the units that fit the codebook: a pair's vouching term is one none of them uses.
        self._fitting_terms = {t for i in fitting for t in self._terms[i]}
        self.labels_ = np.full(n, -1)
        self.scores_ = np.zeros(n)
        self.groups_: list[np.ndarray] = []
        candidates = np.flatnonzero(self.novelty_ > 0)
        if len(candidates) < self.min_size:
            return self
        features = self.features(text_vectors, cluster_terms)
        vetoes = features[fitting]
        if self.grouping == "tree" or (self.grouping == "auto" and len(candidates) <= _TREE_LIMIT):
            groups = self._tree_groups(features, candidates, vetoes)
        else:
            seeds = self._seeds(features, candidates, np.shape(text_vectors)[1])
            groups = self._separate(features, candidates, vetoes, seeds)
        if self.gather and groups:
            groups = self._gathered(features, groups, candidates, fitting, labels)
        return self.regroup(features, groups)

    def regroup(self, features: csr_matrix, groups: Sequence[np.ndarray]) -> NewThemeFinder:
        """Make ``groups`` (member row indices) the new themes: ``groups_`` largest first, ``labels_`` and
        ``scores_`` (each member's cosine to the rest of its group in ``features``, :meth:`features`); out: self."""
        self.groups_ = sorted((np.sort(np.asarray(g, dtype=int)) for g in groups), key=lambda g: (-len(g), int(g[0])))
        self.labels_ = np.full(len(self.novelty_), -1)
        self.scores_ = np.zeros(len(self.novelty_))
        for j, members in enumerate(self.groups_):
            self.labels_[members] = j
            total = np.asarray(features[members].sum(axis=0)).ravel()
            self.scores_[members] = np.clip(leave_one_out(features, members, total), 0.0, 1.0)
        return self

    def features(self, text_vectors: np.ndarray, cluster_terms: Sequence[Sequence[str]]) -> csr_matrix:
        """The space groups are found and judged in: unit-length rows of the round's centred text
        vectors (weight ``text_weight``) beside the TF-IDF of the round's terms (the rest)."""
        text = np.asarray(text_vectors, dtype=np.float64)
        semantic = rows_unit(text - text.mean(axis=0))
        lexical = LexicalSpace().fit(cluster_terms).transform(cluster_terms)
        joined = hstack([csr_matrix(math.sqrt(self.text_weight) * semantic),
                         math.sqrt(1.0 - self.text_weight) * lexical], format="csr")
        return normalize(joined)

    def _holds(self, features: csr_matrix, members: np.ndarray, others: csr_matrix, smallest: int = 0) -> bool:
        """Whether ``members`` are a new theme against ``others`` (the rows of units it must be apart
        from): at least ``smallest`` (and ``min_size``) of them, every member closer to the rest of the
        group than any of ``others`` to its centroid, and a pair each other's nearest units with
        substantial evidence (step 3)."""
        if len(members) < max(self.min_size, smallest):
            return False
        total = np.asarray(features[members].sum(axis=0)).ravel()
        centre = total / max(float(np.linalg.norm(total)), 1e-12)
        boundary = float(np.max(others @ centre)) if others.shape[0] else -np.inf
        if not float(leave_one_out(features, members, total).min()) > boundary:
            return False
        return len(members) > 2 or self._pair_holds(features, members)

    def _gathered(self, features: csr_matrix, groups: list[np.ndarray], candidates: np.ndarray, fitting: np.ndarray,
                  labels: np.ndarray) -> list[np.ndarray]:
        """``groups`` with every candidate in no group that is nearer to a group's centroid than to the centroid of
        each codebook theme's ``fitting`` units (``labels``: each unit's theme) joined to its nearest group: once
        found, a new theme is a theme like the codebook's, and a unit more likely new than known takes the
        nearest (module docstring, step 4)."""
        free = np.setdiff1d(candidates, np.concatenate(groups))
        if not len(free):
            return groups
        themes = [fitting[labels[fitting] == k] for k in np.unique(labels[fitting])]
        centres = np.array([np.asarray(features[g].sum(axis=0)).ravel() for g in [*groups, *themes]])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        nearest = np.asarray(features[free] @ centres.T).argmax(axis=1)
        return [np.union1d(g, free[nearest == j]) for j, g in enumerate(groups)]

    def _pair_holds(self, features: csr_matrix, pair: np.ndarray) -> bool:
        """Two units are a theme only as each other's nearest units, both with substantial evidence, and
        (with ``pair_vouch``) vouched for."""
        if float(self.novelty_[pair].min()) < self.pair_evidence:
            return False
        if self.pair_vouch and not self._vouched(*pair):
            return False
        sims = (features @ features[pair].T).toarray()
        sims[pair, [0, 1]] = -np.inf
        return int(sims[:, 0].argmax()) == pair[1] and int(sims[:, 1].argmax()) == pair[0]

    def _vouched(self, a: int, b: int) -> bool:
        """Whether two units are more than one voice repeating itself: raised by two members, or sharing a
        term that no unit that fits the codebook and no codebook theme uses (a subject of their own, which
        other units that fit no theme, such as a third unit of the concern, may share).

        Without this, a saved model assigning one member's 9-13 units made pairs of that member's known
        units (the leave-one-member-out stress sets): one member's wording is alike from unit to unit."""
        if self._members[a] and self._members[b] and self._members[a] != self._members[b]:
            return True
        return bool(self._terms[a] & self._terms[b] - self._known_terms - self._fitting_terms)

    def _tree_groups(self, features: csr_matrix, candidates: np.ndarray, vetoes: csr_matrix) -> list[np.ndarray]:
        """The dendrogram's nodes that hold as new themes, read from the top (module docstring, step 3)."""
        rows = self._tree_rows(features, candidates)
        distance = np.clip(1.0 - (rows @ rows.T).toarray(), 0.0, 2.0)
        distance = (distance + distance.T) / 2
        np.fill_diagonal(distance, 0.0)
        stack, groups = [to_tree(linkage(squareform(distance, checks=False), method="average"))], []
        while stack:
            node = stack.pop()
            members = np.sort(candidates[node.pre_order()])
            if len(members) < self.min_size:
                continue
            if node.is_leaf() or not self._holds(features, members, vetoes):
                stack += [] if node.is_leaf() else [node.right, node.left]
                continue
            left, right = (np.sort(candidates[child.pre_order()]) for child in (node.left, node.right))
            if (self._holds(features, left, vstack([vetoes, features[right]]), smallest=3)
                    and self._holds(features, right, vstack([vetoes, features[left]]), smallest=3)):
                stack += [node.right, node.left]
            else:
                groups.append(members)
        return groups

    def _tree_rows(self, features: csr_matrix, candidates: np.ndarray) -> csr_matrix:
        """The candidates' rows the dendrogram is built from: the space its nodes are judged in (a study may
        build it elsewhere and judge it here)."""
        return features[candidates]

    def _seeds(self, features: csr_matrix, candidates: np.ndarray, text_width: int) -> list[np.ndarray]:
        """The candidates clustered by k-means that picks its own k (member row indices per cluster);
        ``text_width`` columns of ``features`` hold the text vectors, the rest the TF-IDF."""
        rows = features[candidates]
        if rows.shape[0] * rows.shape[1] > _DENSE_CELLS:
            rows = rows[:, :text_width]
        clusterer = AutoKMeans(min_cluster_size=max(self.min_size, 3), random_state=self.seed).fit(rows)
        return [candidates[clusterer.labels_ == j] for j in sorted(set(clusterer.labels_.tolist()))]

    def _separate(self, features: csr_matrix, candidates: np.ndarray, vetoes: csr_matrix,
                  seeds: list[np.ndarray]) -> list[np.ndarray]:
        """The k-means seeds that hold as new themes once settled (module docstring)."""
        taken = np.zeros(features.shape[0], dtype=bool)
        groups = []
        for seed in sorted(seeds, key=lambda g: (-len(g), int(g[0]))):
            members = self._settle(features, vetoes, candidates[~taken[candidates]], np.sort(seed[~taken[seed]]))
            if members is not None:
                groups.append(members)
                taken[members] = True
        return groups

    def _settle(self, features: csr_matrix, vetoes: csr_matrix, free: np.ndarray,
                members: np.ndarray) -> np.ndarray | None:
        """One seed moved to where it holds (members closer than every vetoing unit), or None."""
        for _ in range(_MAX_ROUNDS):
            if len(members) < self.min_size:
                return None
            total = np.asarray(features[members].sum(axis=0)).ravel()
            centre = total / max(float(np.linalg.norm(total)), 1e-12)
            boundary = float(np.max(vetoes @ centre)) if vetoes.shape[0] else -np.inf
            own = leave_one_out(features, members, total)
            outside = np.setdiff1d(free, members)
            near = outside[np.asarray(features[outside] @ centre).ravel() > max(boundary, float(own.min()))]
            update = np.union1d(members[own > boundary], near)
            if np.array_equal(update, members):
                return members if self._holds(features, members, vetoes) else None
            members = update
        return None
