"""The on-disk cache of Kiwi analyses, so that a rerun analyses only the texts it has not seen.

``TermCache`` keeps Kiwi's raw tokens ``(form, tag, start, len)`` of each text, keyed by the
analysis (kiwipiepy and model versions plus the user dictionary: see :func:`analysis_id`) and the
sha256 of the text. Raw tokens, not terms: the tokenizer's filters (tags, ``min_len``, stopwords,
canonical spellings) run on them afterwards, so changing a filter needs no new analysis. A warm
rerun reads the cache alone and never builds a ``Kiwi`` (model load and dictionary: ~1.5 s).

The store is one SQLite database per analysis id, ``<directory>/kiwi/<analysis id>.sqlite3``, with
one table ``analyses(key BLOB PRIMARY KEY, tokens BLOB)``: ``key`` the 32-byte sha256 digest of the
text, ``tokens`` the zlib-compressed JSON of four columns (forms, tags, each start as the gap after
the previous token's end, lengths). A lookup reads only the rows it asks for, so a run's memory
does not grow with the texts other rounds have cached.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path

import kiwipiepy
import kiwipiepy_model

# One Kiwi token: form, tag, start and length (in characters of the analysed text).
Token = tuple[str, str, int, int]
KIWI_VERSION = f"kiwipiepy {kiwipiepy.__version__}, kiwipiepy_model {kiwipiepy_model.__version__}"
# PRAGMA user_version of a term-cache database; any other value is another layout.
FORMAT = 1
# Keys per SELECT: under SQLite's limit on bound parameters (999 before SQLite 3.32).
BATCH = 500
# How long a read or write waits for another run's write to finish before giving up on the cache.
BUSY_TIMEOUT_S = 10.0
# A rowid table: rows are appended to full pages and only the key index splits pages as random keys
# arrive (WITHOUT ROWID, keyed by the digest, left its pages a third empty: 1.6x the file size).
_SCHEMA = "CREATE TABLE IF NOT EXISTS analyses (key BLOB PRIMARY KEY, tokens BLOB NOT NULL)"
# SQLite's primary result codes for a file that is not a database, or one whose content is damaged.
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def analysis_id(entries: Sequence[tuple[str, str, float]]) -> str:
    """Hex digest naming one Kiwi analysis: ``KIWI_VERSION`` and the user-dictionary ``(word, tag,
    score)`` entries in the order they are added (the order changes what Kiwi matches)."""
    payload = json.dumps([KIWI_VERSION, [list(entry) for entry in entries]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def encode_tokens(tokens: Sequence[Token]) -> bytes:
    """In: one text's tokens. Out: the bytes stored for them (see the module docstring)."""
    forms, tags, gaps, lengths = [], [], [], []
    end = 0
    for form, tag, start, length in tokens:
        forms.append(form)
        tags.append(tag)
        # Gaps, not starts: mostly 0 or 1, which compress to almost nothing.
        gaps.append(start - end)
        lengths.append(length)
        end = start + length
    payload = json.dumps([forms, tags, gaps, lengths], ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(payload.encode("utf-8"))


def decode_tokens(blob: bytes, strings: dict[str, str]) -> list[Token]:
    """In: bytes from :func:`encode_tokens` and a dict that shares equal strings across calls (one
    object per distinct form and tag). Out: the tokens. Raises ValueError for anything else."""
    try:
        forms, tags, gaps, lengths = json.loads(zlib.decompress(blob))
    except (zlib.error, TypeError, ValueError) as err:
        raise ValueError(f"undecodable tokens ({err})") from None
    if not len(forms) == len(tags) == len(gaps) == len(lengths):
        raise ValueError("token columns of different lengths")
    tokens: list[Token] = []
    end = 0
    for form, tag, gap, length in zip(forms, tags, gaps, lengths, strict=True):
        if type(form) is not str or type(tag) is not str or type(gap) is not int or type(length) is not int:
            raise ValueError("a token of the wrong types")
        start = end + gap
        tokens.append((strings.setdefault(form, form), strings.setdefault(tag, tag), start, length))
        end = start + length
    return tokens


class _Damaged(Exception):
    """A database that holds something else than term-cache rows."""


class TermCache:
    """Kiwi tokens on disk under ``directory/kiwi/``, one SQLite database per analysis id.

    ``get`` reads only the asked keys; ``put`` adds rows in one transaction (``INSERT OR IGNORE``:
    an analysis is the same whoever stores it). Runs sharing the cache wait up to ``timeout``
    seconds for each other's writes. A cache that cannot be used never stops a run: a database that
    cannot be read or written (read-only folder, locked too long) gets one warning and is left alone
    for the rest of the run; a damaged one (not SQLite, malformed, undecodable rows) is deleted with
    one warning. Either way the texts it would have given are analysed by Kiwi.
    """

    def __init__(self, directory: str | Path, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.directory = Path(directory)
        self.timeout = timeout
        self._connections: dict[str, sqlite3.Connection] = {}
        self._unreadable: set[str] = set()  # analysis ids neither read nor written for the rest of the run
        self._unwritable: set[str] = set()  # analysis ids read but not written for the rest of the run
        # One connection per database, used by whichever thread calls; the lock keeps their
        # transactions apart.
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        # A tokenizer that is pickled or copied takes the cache's place, not its open databases.
        return {"directory": self.directory, "timeout": self.timeout}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["directory"], state["timeout"])

    def path(self, analysis: str) -> Path:
        """The database file of one analysis id."""
        return self.directory / "kiwi" / f"{analysis}.sqlite3"

    def get(self, analysis: str, keys: Sequence[str]) -> dict[str, list[Token]]:
        """The cached tokens among ``keys`` (sha256 hex of each text) for one analysis id."""
        if analysis in self._unreadable or not keys:
            return {}
        found: dict[str, list[Token]] = {}
        strings: dict[str, str] = {}
        digests = [bytes.fromhex(key) for key in keys]
        with self._lock:
            try:
                connection = self._connection(analysis, create=False)
                if connection is None:
                    return {}
                for start in range(0, len(digests), BATCH):
                    batch = digests[start : start + BATCH]
                    rows = connection.execute(
                        f"SELECT key, tokens FROM analyses WHERE key IN ({','.join('?' * len(batch))})", batch)
                    for key, blob in rows:
                        try:
                            found[key.hex()] = decode_tokens(blob, strings)
                        except ValueError as err:
                            raise _Damaged(f"the row of {key.hex()}: {err}") from None
            except (sqlite3.Error, OSError, _Damaged) as err:
                self._fail(analysis, err, "read")
                return {}
        return found

    def put(self, analysis: str, keys: Sequence[str], analyses: Sequence[Sequence[Token]]) -> None:
        """Store the tokens of each key (sha256 hex of its text), all in one transaction.

        They are not kept in memory (a cold round of 100k texts would hold them all).
        """
        if len(keys) != len(analyses):
            raise ValueError(f"{len(keys)} keys for {len(analyses)} analyses")
        if not keys or analysis in self._unreadable or analysis in self._unwritable:
            return
        # Encoded before the transaction, so another run waits on the write alone.
        rows = [(bytes.fromhex(key), encode_tokens(tokens)) for key, tokens in zip(keys, analyses, strict=True)]
        with self._lock:
            try:
                connection = self._connection(analysis, create=True)
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.executemany("INSERT OR IGNORE INTO analyses (key, tokens) VALUES (?, ?)", rows)
                    connection.execute("COMMIT")
                finally:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
            except (sqlite3.Error, OSError, _Damaged) as err:
                self._fail(analysis, err, "write")

    def _connection(self, analysis: str, create: bool) -> sqlite3.Connection | None:
        """The open database of ``analysis``; None when it does not exist and ``create`` is false."""
        connection = self._connections.get(analysis)
        if connection is not None:
            return connection
        path = self.path(analysis)
        if not create and not path.exists():
            return None
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        # mode=rw opens a write-protected file read-only, so a read-only cache is still read.
        uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
        # isolation_level=None: transactions are begun and ended explicitly (BEGIN IMMEDIATE takes the
        # write lock up front, so two writers queue on the busy timeout instead of deadlocking).
        connection = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None,
                                     check_same_thread=False)
        try:
            _check_layout(connection)
        except BaseException:
            connection.close()
            raise
        self._connections[analysis] = connection
        return connection

    def _fail(self, analysis: str, err: Exception, action: str) -> None:
        """One warning for a database that failed; a damaged one is deleted, any other is left alone
        (reads and writes stop after a read failure, writes after a write failure)."""
        connection = self._connections.pop(analysis, None)
        if connection is not None:
            connection.close()
        path = self.path(analysis)
        damaged = isinstance(err, _Damaged) or (
            isinstance(err, sqlite3.DatabaseError) and (getattr(err, "sqlite_errorcode", 0) & 0xFF) in _DAMAGE_CODES)
        if damaged:
            try:
                # A cache is rebuilt from the texts: a damaged database is worth nothing, and left in
                # place it would warn on every run. Its journal goes too: replayed onto a new database
                # of the same name it would damage that one.
                for stale in (path, path.with_name(path.name + "-journal")):
                    stale.unlink(missing_ok=True)
            except OSError as unlink_err:
                self._unreadable.add(analysis)
                warnings.warn(f"형태소 캐시: {path}이(가) 손상되었고 지울 수도 없습니다 ({err}; {unlink_err}); "
                              "그 글은 다시 분석합니다", stacklevel=4)
                return
            warnings.warn(f"형태소 캐시: 손상된 {path}을(를) 지웠습니다 ({err}); 그 글은 다시 분석합니다", stacklevel=4)
            return
        if action == "read":
            self._unreadable.add(analysis)
            warnings.warn(f"형태소 캐시: {path}을(를) 읽을 수 없습니다 ({err}); 이번 실행은 캐시 없이 분석합니다",
                          stacklevel=4)
        else:
            self._unwritable.add(analysis)
            warnings.warn(f"형태소 캐시: {path}에 쓸 수 없습니다 ({err}); 이번 실행의 새 분석은 저장하지 않습니다",
                          stacklevel=4)


def _check_layout(connection: sqlite3.Connection) -> None:
    """Make an empty database a term cache; raise _Damaged for a database of another layout (and
    sqlite3.DatabaseError for a file that is not a database at all)."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == FORMAT:
        return
    if version != 0 or connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise _Damaged(f"not a term cache: user_version {version}")
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Another run may have set it up meanwhile: IF NOT EXISTS, and the same version.
        connection.execute(_SCHEMA)
        connection.execute(f"PRAGMA user_version = {FORMAT}")
        connection.execute("COMMIT")
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
