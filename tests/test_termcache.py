"""The Kiwi term cache: a warm rerun builds no Kiwi and writes the same bytes; the key and damage are handled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import pipeline.termcache as termcache
import pipeline.tokenizer as tokenizer_module
from pipeline.cli import main
from pipeline.run import run_round
from pipeline.termcache import TermCache
from pipeline.tokenizer import DEFAULT_USER_DICT, KiwiTokenizer, tokenize_views
from tests.reference_digests import digests

SEED = Path(__file__).resolve().parents[1] / "corpus" / "rounds" / "000_95284008f5259e47.txt"
REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "reference_digests.json").read_text(encoding="utf-8"))


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


def _shards(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "kiwi").rglob("*.json.gz"))


def test_warm_tokenizer_builds_no_kiwi_and_filters_change_freely(tmp_path, paragraphs, kiwi_builds):
    plain = KiwiTokenizer(workers=2).tokenize_batch(paragraphs + paragraphs[:3])
    assert kiwi_builds == [1]
    cold = KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs + paragraphs[:3])
    assert cold == plain and len(kiwi_builds) == 2 and len(_shards(tmp_path)) == 1
    # A fresh process's view: new tokenizers, a new cache object over the same folder.
    cache = TermCache(tmp_path)
    warm = KiwiTokenizer(workers=2, cache=cache).tokenize_batch(paragraphs)
    # Other filters over the same analysis: no stopwords, nouns only, longer terms.
    other = KiwiTokenizer(stopwords=None, pos=("NNG",), min_len=3, workers=2)
    views = tokenize_views(paragraphs, [KiwiTokenizer(stopwords=None, pos=("NNG",), min_len=3, cache=cache)])
    assert warm == plain[: len(paragraphs)]
    assert len(kiwi_builds) == 2 and len(_shards(tmp_path)) == 1
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
    assert len(list((tmp_path / "kiwi").iterdir())) == 3


@pytest.mark.parametrize("damage", [b"", b"not gzip at all", None])
def test_damaged_shard_is_dropped_with_a_warning_and_analysed_again(tmp_path, paragraphs, kiwi_builds, damage):
    expected = KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs)
    (shard,) = _shards(tmp_path)
    # None: a valid gzip stream whose JSON is cut short.
    shard.write_bytes(damage if damage is not None else shard.read_bytes()[:-30])
    with pytest.warns(UserWarning, match=f"term cache: dropped damaged shard {shard}"):
        again = KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs)
    assert again == expected and len(kiwi_builds) == 2
    assert not shard.exists() and len(_shards(tmp_path)) == 1


def test_shards_merge_past_max_shards(tmp_path, paragraphs, kiwi_builds):
    tok = KiwiTokenizer(workers=2, cache=TermCache(tmp_path, max_shards=3))
    expected = [tok.tokenize_batch([paragraph])[0] for paragraph in paragraphs[:5]]
    assert len(_shards(tmp_path)) <= 3
    builds = len(kiwi_builds)
    assert KiwiTokenizer(workers=2, cache=TermCache(tmp_path)).tokenize_batch(paragraphs[:5]) == expected
    assert len(kiwi_builds) == builds


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
            run_round(None, out / name, seed=0, cache_dir=cache, save_model=out / f"{name}_model")
            builds[name] = len(count)
    return {"out": out, "builds": builds}


def test_warm_round_builds_no_kiwi_and_writes_the_reference_bytes(reruns):
    out, builds = reruns["out"], reruns["builds"]
    assert builds["cold"] >= 1
    assert builds["warm"] == 0
    for name in ("cold", "warm"):
        assert digests(out / name, out / f"{name}_model") == REFERENCE["run"]
        assert digests(out / f"{name}_model") == REFERENCE["model"]


def test_no_cache_writes_no_analyses(tmp_path, kiwi_builds):
    cache = tmp_path / "cache"
    assert main(["run", str(SEED), "--out", str(tmp_path / "run"), "--embedder", "tfidf",
                 "--cache-dir", str(cache), "--no-cache"]) == 0
    assert kiwi_builds and not (cache / "kiwi").exists()
    assert main(["run", str(SEED), "--out", str(tmp_path / "run2"), "--embedder", "tfidf",
                 "--cache-dir", str(cache)]) == 0
    assert _shards(cache)
