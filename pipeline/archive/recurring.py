"""New-theme candidates of different rounds that are one concern raised again.

A candidate is a theme of its own round (``new_theme_01`` of two rounds are two concerns, see
:mod:`pipeline.archive.trendtables`), so a concern the codebook lacks that members raise year after year
shows up as a new candidate in every round, and the trend tables alone read as if it were new each time.
The archive keeps no vectors, but it keeps each candidate's c-TF-IDF keywords (its ten most distinctive
Kiwi terms), and two rounds' candidates of one concern share their subject's words: the participant-safety
candidates of two rounds written by different people share 안전, 보험, 가입, 사고, 체험, 교육; the
gentrification and resident-conflict candidates of two rounds share none.

Two candidates of different rounds are linked when they share at least :data:`SHARED_KEYWORDS` keywords, and
the candidates linked directly or through others are one concern, first raised in the earliest of their
rounds. Measured on the eleven new-concerns and blind rounds (``bench/README.md``, "Recurring concerns"):
with three shared keywords, 5 of 6 links join candidates of one subject and 5 of the 10 pairs of one subject
are linked; with two, 8 of 10 are, but generic words (단체, 이용, 이동) chain an environment concern and an
access concern into one.

A concern a researcher promoted (``advisory codebook promote``) or named in a corrections file or QDA tool
is, from then on, a theme of the codebook or a researcher's, no longer a candidate, so the archive would
read as if it began the round it was named. The same rule links it back: a *named* theme that enters the
archive in a later round (no round up to the candidate's had it: not among its units' themes, nor its
stored model's themes, nor, for a round stored without a model, its units' runner-ups) and shares
:data:`SHARED_KEYWORDS` of its keywords in the first round it has units in with a candidate is that
candidate's concern, named (``later_theme``), and so is every earlier candidate linked to that one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from pipeline.runfolder.schema import split_cell

#: Keywords two candidates of different rounds must share to be one concern raised again.
SHARED_KEYWORDS = 3


def keyword_set(keywords: object) -> frozenset[str]:
    """The keywords of a ``keywords`` cell (``;``-separated; empty or missing: none)."""
    return frozenset(split_cell(keywords)) if isinstance(keywords, str) else frozenset()


def shared_keywords(a: object, b: object) -> list[str]:
    """The keywords two ``keywords`` cells share, sorted."""
    return sorted(keyword_set(a) & keyword_set(b))


def recurring_links(candidates: pd.DataFrame, min_shared: int = SHARED_KEYWORDS) -> list[tuple[int, int]]:
    """The pairs ``(earlier row, later row)`` of ``candidates`` (rows in round order, with ``round_name`` and
    ``keywords``) from different rounds that share at least ``min_shared`` keywords."""
    if min_shared < 1:
        raise ValueError(f"min_shared must be at least 1, got {min_shared}")
    rounds, keywords = candidates["round_name"].tolist(), candidates["keywords"].tolist()
    # Rows are in round order, so of two rows of different rounds the first is the earlier round's.
    return [(i, j) for j in range(len(rounds)) for i in range(j)
            if rounds[i] != rounds[j] and len(shared_keywords(keywords[i], keywords[j])) >= min_shared]


def linked_groups(pairs: list[tuple[int, int]], n: int) -> np.ndarray:
    """Per row of ``n``, the number of its concern: the rows ``pairs`` link, directly or through others."""
    ends = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    graph = csr_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def entering_themes(named: pd.DataFrame, round_order: list[str]) -> pd.DataFrame:
    """Each theme of ``named`` once (rows with ``round_name``, ``theme_id`` and ``keywords``: the archive's
    themes that are no candidate, in every round whose model had them; ``keywords`` missing where a round had
    the theme without units), with ``entered``, the position in ``round_order`` of the first round that had
    it, and the keywords and ``round_name`` of the first round it had units in; sorted by ``entered``, then id.
    A theme that never had units is left out (no keywords to link by)."""
    position = {name: i for i, name in enumerate(round_order)}
    frame = named.assign(entered=named["round_name"].map(position)).dropna(subset=["entered"])
    frame = frame.sort_values(["entered", "theme_id"], kind="stable")
    entered = frame.groupby("theme_id", sort=False)["entered"].min()
    has_keywords = frame["keywords"].map(lambda k: isinstance(k, str) and k != "").astype(bool)
    first = frame.loc[has_keywords].drop_duplicates("theme_id")
    first = first.assign(entered=first["theme_id"].map(entered)).sort_values(["entered", "theme_id"], kind="stable")
    return first.astype({"entered": "int64"}).reset_index(drop=True)


def later_theme_links(candidates: pd.DataFrame, entering: pd.DataFrame, round_order: list[str],
                      min_shared: int = SHARED_KEYWORDS) -> list[tuple[int, int]]:
    """The pairs ``(candidate row, entering row)``: a candidate of a round before the one the named theme
    entered (:func:`entering_themes`) that shares ``min_shared`` keywords with it there."""
    position = {name: i for i, name in enumerate(round_order)}
    return [(i, k) for i, c in enumerate(candidates.itertuples(index=False))
            for k, t in enumerate(entering.itertuples(index=False))
            if position[c.round_name] < t.entered and len(shared_keywords(c.keywords, t.keywords)) >= min_shared]


def link_recurring(candidates: pd.DataFrame, min_shared: int = SHARED_KEYWORDS, *,
                   named: pd.DataFrame | None = None, round_order: list[str] | None = None) -> pd.DataFrame:
    """``candidates`` (rows in round order, with ``round_name``, ``theme_id`` and ``keywords``) with three
    columns added: ``first_round``, the earliest round of the concern (the row's own round unless an earlier
    round's candidate is linked to it, directly or through others); ``earlier_candidates``, the earlier
    rounds' candidates it shares ``min_shared`` keywords with (:func:`recurring_links`), as the trend tables'
    keys ``<theme_id>@<round_name>`` joined by ``;``; and ``later_theme``, the named themes the concern
    became in a later round (``named``: the archive's codebook and researcher themes, rows as
    :func:`entering_themes` takes them; ``round_order``: the archive's rounds in order, which
    is required with ``named``; :func:`later_theme_links`, through any candidate of the concern), as
    ``<theme_id>@<round>`` in the order they entered (:func:`split_key` reads one back)."""
    frame = candidates.reset_index(drop=True)
    if frame.empty:
        return frame.assign(first_round=pd.Series(dtype=str), earlier_candidates=pd.Series(dtype=str),
                            later_theme=pd.Series(dtype=str))
    pairs = recurring_links(frame, min_shared)
    rounds = frame["round_name"].tolist()
    concern = linked_groups(pairs, len(frame)).tolist()
    first: dict[int, str] = {}
    for c, name in zip(concern, rounds, strict=True):
        first.setdefault(c, name)
    earlier: list[list[str]] = [[] for _ in rounds]
    for i, j in pairs:
        earlier[j].append(f"{frame.at[i, 'theme_id']}@{rounds[i]}")
    return frame.assign(first_round=[first[c] for c in concern], earlier_candidates=[";".join(e) for e in earlier],
                        later_theme=_later_themes(frame, concern, named, round_order, min_shared))


def _later_themes(frame: pd.DataFrame, concern: list[int], named: pd.DataFrame | None,
                  round_order: list[str] | None, min_shared: int) -> list[str]:
    """Per candidate row, ``link_recurring``'s ``later_theme`` cell."""
    rounds = frame["round_name"].tolist()
    if named is None:
        return [""] * len(rounds)
    if round_order is None:
        # The candidates' rounds alone would miss the rounds a theme entered in without candidates.
        raise ValueError("round_order (the archive's rounds in order) is required with named")
    entering = entering_themes(named, round_order)
    became: dict[int, set[int]] = {}
    for i, k in later_theme_links(frame, entering, round_order, min_shared):
        became.setdefault(concern[i], set()).add(k)
    position = {name: p for p, name in enumerate(round_order)}
    # Only candidates of rounds before the theme entered: one after it is a unit the theme failed to take.
    return [";".join(f"{entering.at[k, 'theme_id']}@{entering.at[k, 'round_name']}" for k in sorted(became.get(c, ()))
                     if position[name] < entering.at[k, "entered"])
            for name, c in zip(rounds, concern, strict=True)]


def split_key(key: str, round_names: list[str]) -> tuple[str, str]:
    """``(theme_id, round_name)`` of a trend-table key ``<theme_id>@<round_name>``: the round is the longest of
    ``round_names`` the key ends with (a round's name and a researcher's theme id may both hold ``@``)."""
    for name in sorted(round_names, key=len, reverse=True):
        if key.endswith(f"@{name}"):
            return key[: -len(name) - 1], name
    theme_id, _, name = key.rpartition("@")
    return theme_id, name
