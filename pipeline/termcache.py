"""The on-disk cache of Kiwi analyses, so that a rerun analyses only the texts it has not seen.

``TermCache`` keeps Kiwi's raw tokens ``(form, tag, start, len)`` of each text, keyed by the
analysis (kiwipiepy and model versions plus the user dictionary: see :func:`analysis_id`) and the
sha256 of the text. Raw tokens, not terms: the tokenizer's filters (tags, ``min_len``, stopwords,
canonical spellings) run on them afterwards, so changing a filter needs no new analysis. A warm
rerun reads the cache alone and never builds a ``Kiwi`` (model load and dictionary: ~1.5 s).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
import uuid
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path

import kiwipiepy
import kiwipiepy_model

# One Kiwi token: form, tag, start and length (in characters of the analysed text).
Token = tuple[str, str, int, int]
KIWI_VERSION = f"kiwipiepy {kiwipiepy.__version__}, kiwipiepy_model {kiwipiepy_model.__version__}"


def analysis_id(entries: Sequence[tuple[str, str, float]]) -> str:
    """Hex digest naming one Kiwi analysis: ``KIWI_VERSION`` and the user-dictionary ``(word, tag,
    score)`` entries in the order they are added (the order changes what Kiwi matches)."""
    payload = json.dumps([KIWI_VERSION, [list(entry) for entry in entries]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _is_token(token: object) -> bool:
    return (isinstance(token, list) and len(token) == 4 and isinstance(token[0], str)
            and isinstance(token[1], str) and type(token[2]) is int and type(token[3]) is int)


def _read_shard(path: Path) -> dict[str, list[Token]]:
    """In: a shard's path. Out: text key -> tokens. Raises ValueError (or the reader's own error)
    for a file cut short, of another layout, or holding anything but 64-character keys and tokens."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        shard = json.load(handle)
    if not isinstance(shard, dict) or not isinstance(shard.get("keys"), list) or not isinstance(
            shard.get("tokens"), list):
        raise ValueError("not a term-cache shard")
    keys, analyses = shard["keys"], shard["tokens"]
    if len(keys) != len(analyses):
        raise ValueError(f"{len(keys)} keys for {len(analyses)} analyses")
    for key, tokens in zip(keys, analyses, strict=True):
        if not isinstance(key, str) or len(key) != 64 or not isinstance(tokens, list):
            raise ValueError(f"bad entry for key {str(key)[:64]!r}")
        if not all(_is_token(token) for token in tokens):
            raise ValueError(f"bad token in the analysis of {key}")
    # One string object per distinct form and tag: a round's tokens repeat a few thousand words, and
    # the loaded tokens stay in memory for the whole run.
    strings: dict[str, str] = {}
    return {key: [(strings.setdefault(form, form), strings.setdefault(tag, tag), start, length)
                  for form, tag, start, length in tokens]
            for key, tokens in zip(keys, analyses, strict=True)}


class TermCache:
    """Kiwi tokens on disk under ``directory/kiwi/<analysis id>/``, one gzipped JSON shard per ``put``.

    Shards are written to a temporary file and renamed into place, so concurrent runs never see
    half a shard; past ``max_shards`` shards a ``put`` merges them into one. A damaged shard is
    deleted with one warning and its texts count as missing, so they are analysed again.
    """

    def __init__(self, directory: str | Path, max_shards: int = 64) -> None:
        self.directory = Path(directory)
        self.max_shards = max_shards
        # analysis id -> (shard names read, text key -> tokens)
        self._loaded: dict[str, tuple[set[str], dict[str, list[Token]]]] = {}

    def __getstate__(self) -> dict:
        # A tokenizer that is pickled or copied takes the cache's place, not its loaded tokens.
        return {"directory": self.directory, "max_shards": self.max_shards, "_loaded": {}}

    def folder(self, analysis: str) -> Path:
        """The folder holding the shards of one analysis id."""
        return self.directory / "kiwi" / analysis[:24]

    def _refresh(self, analysis: str) -> dict[str, list[Token]]:
        names, rows = self._loaded.setdefault(analysis, (set(), {}))
        folder = self.folder(analysis)
        if folder.is_dir():
            for path in sorted(folder.glob("*.json.gz")):
                if path.name not in names:
                    loaded = self._load(path)
                    if loaded is not None:
                        rows.update(loaded)
                        names.add(path.name)
        return rows

    @staticmethod
    def _load(path: Path) -> dict[str, list[Token]] | None:
        """A shard's tokens; None when it is gone or damaged (then deleted, with one warning)."""
        try:
            return _read_shard(path)
        except FileNotFoundError:
            return None  # merged into a bigger shard and removed by another writer meanwhile
        except (OSError, EOFError, ValueError, zlib.error) as err:
            # A cache is rebuilt from the texts: a damaged shard is worth nothing, and left in place
            # it would warn on every run.
            path.unlink(missing_ok=True)
            warnings.warn(f"term cache: dropped damaged shard {path} ({err or 'empty file'}); "
                          "its texts are analysed again", stacklevel=5)
            return None

    def get(self, analysis: str, keys: Sequence[str]) -> dict[str, list[Token]]:
        """The cached tokens among ``keys`` (sha256 hex of each text) for one analysis id."""
        rows = self._refresh(analysis)
        return {key: rows[key] for key in keys if key in rows}

    def put(self, analysis: str, keys: Sequence[str], analyses: Sequence[list[Token]]) -> None:
        """Store the tokens of each key as one new shard.

        They are not kept in memory (a cold round of 100k texts would hold all its tokens): a later
        ``get`` for them in this process misses, as each text is asked for once per analysis.
        """
        if len(keys) != len(analyses):
            raise ValueError(f"{len(keys)} keys for {len(analyses)} analyses")
        if not keys:
            return
        names, _ = self._loaded.setdefault(analysis, (set(), {}))
        folder = self.folder(analysis)
        folder.mkdir(parents=True, exist_ok=True)
        names.add(self._write_shard(folder, list(keys), list(analyses)).name)
        if len(names) > self.max_shards:
            self._merge(folder, names)

    def _merge(self, folder: Path, names: set[str]) -> None:
        # Reads the shards back (tokens that were put are not held), writes them as one, then removes them.
        merged: dict[str, list[Token]] = {}
        for name in sorted(names):
            merged.update(self._load(folder / name) or {})
        path = self._write_shard(folder, list(merged), list(merged.values()))
        for old in names:
            (folder / old).unlink(missing_ok=True)
        names.clear()
        names.add(path.name)

    @staticmethod
    def _write_shard(folder: Path, keys: list[str], analyses: list[list[Token]]) -> Path:
        # Names sort by time, so a merge keeps the order shards were written in.
        path = folder / f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json.gz"
        temporary = folder / f".tmp-{uuid.uuid4().hex}"
        payload = json.dumps({"keys": keys, "tokens": analyses}, ensure_ascii=False, separators=(",", ":"))
        # mtime=0: the same analyses give the same bytes.
        with temporary.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as handle:
            handle.write(payload.encode("utf-8"))
        os.replace(temporary, path)
        return path
