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


def link_recurring(candidates: pd.DataFrame, min_shared: int = SHARED_KEYWORDS) -> pd.DataFrame:
    """``candidates`` (rows in round order, with ``round_name``, ``theme_id`` and ``keywords``) with two
    columns added: ``first_round``, the earliest round of the concern (the row's own round unless an earlier
    round's candidate is linked to it, directly or through others), and ``earlier_candidates``, the earlier
    rounds' candidates it shares ``min_shared`` keywords with (:func:`recurring_links`), as the trend tables'
    keys ``<theme_id>@<round_name>`` joined by ``;``."""
    frame = candidates.reset_index(drop=True)
    if frame.empty:
        return frame.assign(first_round=pd.Series(dtype=str), earlier_candidates=pd.Series(dtype=str))
    pairs = recurring_links(frame, min_shared)
    rounds = frame["round_name"].tolist()
    concern = linked_groups(pairs, len(frame))
    first: dict[int, str] = {}
    for c, name in zip(concern.tolist(), rounds, strict=True):
        first.setdefault(c, name)
    earlier: list[list[str]] = [[] for _ in rounds]
    for i, j in pairs:
        earlier[j].append(f"{frame.at[i, 'theme_id']}@{rounds[i]}")
    return frame.assign(first_round=[first[c] for c in concern.tolist()],
                        earlier_candidates=[";".join(e) for e in earlier])
