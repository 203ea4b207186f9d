"""The Kiwi term cache: a warm rerun builds no Kiwi and writes the same bytes; the key and damage are handled."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

import pipeline.features.termcache as termcache
import pipeline.features.tokenizer as tokenizer_module
from pipeline.cli import main
from pipeline.core.options import RunOptions
from pipeline.features.termcache import TermCache
from pipeline.features.tokenizer import DEFAULT_USER_DICT, KiwiTokenizer, tokenize_views
from pipeline.workflow import run_round
from tests.support.reference_digests import digests

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
REFERENCE = json.loads((Path(__file__).parents[1] / "fixtures" / "reference_digests.json").read_text(encoding="utf-8"))


@pytest.fixture
def kiwi_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each ``Kiwi`` the tokenizer module builds appends one entry."""
    builds: list[int] = []
    real = tokenizer_module.Kiwi

    def counting(*args, **kwargs):
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tokenizer_module, "Kiwi", counting)
    return builds


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8-sig")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()][:40]


def _databases(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "kiwi").glob("*.sqlite3"))


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _analysis(tok: KiwiTokenizer) -> str:
    """The analysis id ``tok`` stores its tokens under."""
    return termcache.analysis_id([(e.word, e.tag, e.score) for e in tok._kiwi_order()])


def _rule_tokens(i: int) -> list[termcache.Token]:
    """Made-up tokens of made-up text number ``i``: a different list for each ``i``."""
    return [(f"단어{i}", "NNG", 0, 2 + len(str(i))), ("를", "JKO", 2 + len(str(i)), 1), (str(i % 97), "SN", 5, 2)]


def test_warm_tokenizer_builds_no_kiwi_and_filters_change_freely(tmp_path, paragraphs, kiwi_builds):
    plain = KiwiTokenizer(workers=2).tokenize_batch(paragraphs + paragraphs[:3])
    assert kiwi_builds == [1]
    cold = KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs + paragraphs[:3])
    assert cold == plain and len(kiwi_builds) == 2 and len(_databases(tmp_path)) == 1
    # A fresh process's view: new tokenizers, a new cache object over the same folder.
    cache = TermCache(tmp_path)
    warm = KiwiTokenizer(workers=2, cache=cache).tokenize_batch(paragraphs)
    # Other filters over the same analysis: no stopwords, nouns only, longer terms.
    other = KiwiTokenizer(stopwords=None, pos=("NNG",), min_len=3, workers=2)
    views = tokenize_views(paragraphs, [KiwiTokenizer(stopwords=None, pos=("NNG",), min_len=3, cache=cache)])
    assert warm == plain[: len(paragraphs)]
    assert len(kiwi_builds) == 2 and len(_databases(tmp_path)) == 1
    assert views[0] == other.tokenize_batch(paragraphs)


def test_another_dictionary_or_kiwi_version_misses(tmp_path, paragraphs, kiwi_builds, monkeypatch):
    KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs)
    assert len(kiwi_builds) == 1
    extra = tmp_path / "user_dict.tsv"
    extra.write_text(DEFAULT_USER_DICT.read_text(encoding="utf-8-sig") + "\n성과관리체계\tNNG\t0\n", encoding="utf-8")
    edited = KiwiTokenizer(user_dict=extra, workers=2, cache=TermCache(tmp_path))
    assert "성과관리체계" in edited.tokenize_batch(["성과관리체계를 정비한다"] + paragraphs)[0]
    assert len(kiwi_builds) == 2
    monkeypatch.setattr(termcache, "KIWI_VERSION", "kiwipiepy 99.0, kiwipiepy_model 99.0")
    KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs)
    assert len(kiwi_builds) == 3
    assert len(_databases(tmp_path)) == 3


def test_lookup_decodes_only_the_asked_keys(tmp_path, monkeypatch):
    analysis = "ab" * 32
    TermCache(tmp_path).put(analysis, [_key(str(i)) for i in range(3000)], [_rule_tokens(i) for i in range(3000)])
    decoded: list[int] = []
    real = termcache.decode_tokens

    def counting(blob: bytes, strings: dict[str, str]) -> list[termcache.Token]:
        decoded.append(1)
        return real(blob, strings)

    monkeypatch.setattr(termcache, "decode_tokens", counting)
    cache = TermCache(tmp_path)
    found = cache.get(analysis, [_key("17"), _key("2999"), _key("not stored")])
    assert found == {_key("17"): _rule_tokens(17), _key("2999"): _rule_tokens(2999)}
    assert len(decoded) == 2
    # More keys than one SELECT takes: every batch is asked.
    wanted = [_key(str(i)) for i in range(0, 3000, 2)]
    assert cache.get(analysis, wanted) == {_key(str(i)): _rule_tokens(i) for i in range(0, 3000, 2)}
    assert len(decoded) == 2 + 1500


def test_two_caches_share_a_folder(tmp_path):
    analysis = "cd" * 32
    first, second = TermCache(tmp_path), TermCache(tmp_path)
    first.put(analysis, [_key("0"), _key("1")], [_rule_tokens(0), _rule_tokens(1)])
    # The second run stores one text the first already stored (ignored) and one new.
    second.put(analysis, [_key("1"), _key("2")], [_rule_tokens(1), _rule_tokens(2)])
    keys = [_key(str(i)) for i in range(3)]
    assert first.get(analysis, keys) == second.get(analysis, keys) == {k: _rule_tokens(i) for i, k in enumerate(keys)}


def test_a_cache_locked_too_long_warns_once_and_the_run_goes_on(tmp_path, paragraphs, kiwi_builds):
    expected = KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs[:20])
    (database,) = _databases(tmp_path)
    other_run = sqlite3.connect(database, isolation_level=None)
    other_run.execute("BEGIN EXCLUSIVE")  # another run in the middle of a long write
    try:
        with pytest.warns(UserWarning) as caught:
            tok = KiwiTokenizer(workers=2, cache=TermCache(tmp_path, timeout=0.2))
            assert tok.tokenize_batch(paragraphs[:20]) == expected
            assert tok.tokenize_batch(paragraphs[20:]) == KiwiTokenizer(workers=2).tokenize_batch(paragraphs[20:])
    finally:
        other_run.execute("ROLLBACK")
        other_run.close()
    assert [str(w.message) for w in caught] == [
        f"형태소 캐시: {database}을(를) 읽을 수 없습니다 (database is locked); 이번 실행은 캐시 없이 분석합니다"]
    # Nothing was lost or damaged: a later run reads the first 20 without Kiwi.
    builds = len(kiwi_builds)
    assert KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs[:20]) == expected
    assert len(kiwi_builds) == builds


@contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """``folder`` and everything in it read-only while the block runs."""
    paths = [folder, *folder.rglob("*")]
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path in paths:
                path.chmod(0o755)
        return
    # Root writes whatever the modes say; the immutable attribute stops root too (ext4, xfs, btrfs).
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", *map(str, paths)],
                                                        capture_output=True).returncode:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True)
        pytest.skip("running as root where chattr +i is not available: no folder is read-only to root")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


@pytest.mark.parametrize("filled", [True, False])
def test_read_only_cache_folder_is_read_and_the_run_completes(tmp_path, paragraphs, kiwi_builds, filled):
    expected = KiwiTokenizer(workers=2).tokenize_batch(paragraphs)
    if filled:
        KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs[:20])
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    with _read_only(tmp_path), pytest.warns(UserWarning) as caught:
        cache = TermCache(tmp_path)
        tok = KiwiTokenizer(workers=2, cache=cache)
        assert tok.tokenize_batch(paragraphs) == tok.tokenize_batch(paragraphs) == expected
        # The texts stored before are still read from the read-only folder.
        keys = [_key(text) for text in paragraphs]
        assert len(cache.get(_analysis(tok), keys)) == (len(set(keys[:20])) if filled else 0)
    (warning,) = caught
    assert str(warning.message).startswith("형태소 캐시: ")
    assert str(warning.message).endswith("이번 실행의 새 분석은 저장하지 않습니다")
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def _truncate(database: Path) -> None:
    database.write_bytes(database.read_bytes()[:4096])


def _foreign(database: Path) -> None:
    database.unlink()
    with closing(sqlite3.connect(database)) as other:
        other.execute("CREATE TABLE notes (text TEXT)")
        other.commit()


def _bad_row(database: Path) -> None:
    with closing(sqlite3.connect(database)) as db:
        db.execute("UPDATE analyses SET tokens = ? WHERE key = (SELECT min(key) FROM analyses)", (b"\x78\x9c",))
        db.commit()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "bad row"])
def test_damaged_database_is_removed_with_a_warning_and_analysed_again(tmp_path, paragraphs, kiwi_builds, damage):
    expected = KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs)
    (database,) = _databases(tmp_path)
    {"garbage": lambda db: db.write_bytes(b"not a database at all " * 300), "truncated": _truncate,
     "foreign": _foreign, "bad row": _bad_row}[damage](database)
    with pytest.warns(UserWarning, match=f"형태소 캐시: 손상된 {database}") as caught:
        again = KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs)
    assert again == expected and len(kiwi_builds) == 2 and len(caught) == 1
    # The analyses went into a new database: the next run needs no Kiwi.
    assert KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs) == expected
    assert len(kiwi_builds) == 2 and _databases(tmp_path) == [database]


@pytest.fixture(scope="module")
def reruns(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The bundled round run three times over one cache: to fill it, with the Kiwi analyses removed
    (the embeddings stay warm, so the run records match), and fully warm; Kiwi builds per run."""
    out = tmp_path_factory.mktemp("termcache_runs")
    cache = out / "cache"
    builds: dict[str, int] = {}
    real = tokenizer_module.Kiwi
    with pytest.MonkeyPatch.context() as patch:
        for name in ("fill", "cold", "warm"):
            if name == "cold":
                shutil.rmtree(cache / "kiwi")
            count: list[int] = []

            def counting(*args, count=count, **kwargs):
                count.append(1)
                return real(*args, **kwargs)

            patch.setattr(tokenizer_module, "Kiwi", counting)
            run_round(None, out / name, RunOptions(seed=0, cache_dir=cache), save_model=out / f"{name}_model")
            builds[name] = len(count)
    return {"out": out, "builds": builds}


def test_warm_round_builds_no_kiwi_and_writes_the_reference_bytes(reruns):
    out, builds = reruns["out"], reruns["builds"]
    assert builds["cold"] >= 1
    assert builds["warm"] == 0
    for name in ("cold", "warm"):
        assert digests(out / name, out / f"{name}_model") == REFERENCE["run"]
        assert digests(out / f"{name}_model") == REFERENCE["model"]


def test_no_cache_writes_no_analyses(tmp_path, kiwi_builds, reruns):
    cache = tmp_path / "cache"
    assert main(["run", str(SEED), "--out", str(tmp_path / "run"), "--embedder", "tfidf",
                 "--cache-dir", str(cache), "--no-cache"]) == 0
    assert kiwi_builds and not (cache / "kiwi").exists()
    # The check can fail: a run of the same round with the cache on (the module's reruns) leaves analyses.
    assert _databases(reruns["out"] / "cache")
