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
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

#: Keywords two candidates of different rounds must share to be one concern raised again.
SHARED_KEYWORDS = 3


def keyword_set(keywords: object) -> frozenset[str]:
    """The keywords of a ``keywords`` cell (``;``-separated; empty or missing: none)."""
    if not isinstance(keywords, str):
        return frozenset()
    return frozenset(k.strip() for k in keywords.split(";") if k.strip())


def recurring_links(candidates: pd.DataFrame, min_shared: int = SHARED_KEYWORDS) -> list[tuple[int, int]]:
    """The pairs ``(earlier row, later row)`` of ``candidates`` (rows in round order, with ``round_name`` and
    ``keywords``) from different rounds that share at least ``min_shared`` keywords."""
    if min_shared < 1:
        raise ValueError(f"min_shared must be at least 1, got {min_shared}")
    rounds = candidates["round_name"].tolist()
    # Round order is row order: a round's rank is where its first candidate stands.
    rank = {name: i for i, name in reversed(list(enumerate(rounds)))}
    words = [keyword_set(k) for k in candidates["keywords"]]
    return [(i, j) for j in range(len(rounds)) for i in range(j)
            if rank[rounds[i]] < rank[rounds[j]] and len(words[i] & words[j]) >= min_shared]


def link_recurring(candidates: pd.DataFrame, min_shared: int = SHARED_KEYWORDS) -> pd.DataFrame:
    """``candidates`` (rows in round order, with ``round_name``, ``theme_id`` and ``keywords``) with two
    columns added: ``first_round``, the earliest round of the concern (the row's own round unless an earlier
    round's candidate is linked to it, directly or through others), and ``earlier_candidates``, the earlier
    rounds' candidates it shares ``min_shared`` keywords with (:func:`recurring_links`), as the trend tables'
    keys ``<theme_id>@<round_name>`` joined by ``;``."""
    frame = candidates.reset_index(drop=True)
    pairs = recurring_links(frame, min_shared)
    if frame.empty:
        return frame.assign(first_round=pd.Series(dtype=str), earlier_candidates=pd.Series(dtype=str))
    n, rounds = len(frame), frame["round_name"].tolist()
    ends = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    graph = csr_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(n, n))
    _, concern = connected_components(graph, directed=False)
    first: dict[int, str] = {}
    for i in range(n):
        first.setdefault(int(concern[i]), rounds[i])
    earlier: list[list[str]] = [[] for _ in range(n)]
    for i, j in pairs:
        earlier[j].append(f"{frame.at[i, 'theme_id']}@{rounds[i]}")
    return frame.assign(first_round=[first[int(c)] for c in concern],
                        earlier_candidates=[";".join(e) for e in earlier])
