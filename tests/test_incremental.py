"""Incremental rounds: a rerun embeds nothing, and a new round added to an archive embeds only its units.

A counting fake embedder stands in for the neural model so that the test is fast and every text the
model sees is counted: ``CachedEmbedder`` counters, ``run.json`` counts and the fake's own tally
must agree. The first tests drive the embed stage directly; the last one goes through ``run_round``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import pipeline.themes.store
import pipeline.workflow
from pipeline.core.options import RunOptions
from pipeline.features import embedders
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
from pipeline.features.embedders import Embedder, unit_passages
from pipeline.read.rounds import load_units
from pipeline.workflow import run_round

SEED = Path(__file__).resolve().parents[1] / "corpus" / "rounds" / "000_95284008f5259e47.txt"

# A small later round in the seed's format: three recommendations that the seed does not contain.
NEW_ROUND = """\
□ ○○○ 위원

❶ 서울시 지역상생교류 추진
[ 지역상생교류 사업 활성화 방안 ]

 ㅇ 지역 특산물 정기 직거래 장터를 자치구별로 순회 개최하여 판로를 넓힐 필요
   - 상생상회와 연계하여 온라인 주문도 함께 받도록 운영

 ㅇ 귀농·귀촌 체험 프로그램의 참여자 만족도를 매년 조사하여 성과지표에 반영

❷ ’25년 지역연계형 청년 창업 지원사업(넥스트로컬)
[ 사업 개선 방안 ]

 ㅇ 창업팀 간 공동 물류센터를 마련하여 배송비 부담을 줄이는 방안 검토
"""


class CountingEmbedder(Embedder):
    """Deterministic 16-dimensional vectors from each text's hash; counts every text it embeds."""

    name = "counting"

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self.kinds: list[str] = []

    @property
    def model_id(self) -> str:
        return "counting-v1"

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        self.embedded.extend(texts)
        self.kinds.extend([kind] * len(texts))
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), 16) + 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _embed_run(paths: Sequence[Path], cache_dir: Path) -> tuple[CachedEmbedder, CountingEmbedder, np.ndarray]:
    """One run's embed stage as a fresh process sees it: new cache object, new model, same folder."""
    model = CountingEmbedder()
    embedder = CachedEmbedder(model, EmbeddingCache(cache_dir))
    texts = [unit.text for unit in load_units(paths)]
    return embedder, model, embedder.encode(texts)


@pytest.fixture()
def new_round(tmp_path: Path) -> Path:
    path = tmp_path / "001_new_round.txt"
    path.write_text(NEW_ROUND, encoding="utf-8")
    return path


def test_rerun_of_same_round_embeds_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, first_model, first_vectors = _embed_run([SEED], cache)
    distinct = len(set(first_model.embedded))
    assert first.n_new == distinct == len(first_model.embedded) > 0

    second, second_model, second_vectors = _embed_run([SEED], cache)
    assert second.n_new == 0 and second_model.embedded == []
    assert second.n_cached == len(second_vectors) == len(first_vectors)
    # Served vectors are the stored bytes, so a rerun's themes cannot drift.
    assert np.array_equal(first_vectors, second_vectors)


def test_new_round_onto_archive_embeds_exactly_its_units(tmp_path: Path, new_round: Path) -> None:
    cache = tmp_path / "cache"
    archive, _, _ = _embed_run([SEED], cache)
    new_texts = [unit.text for unit in load_units([new_round])]
    archive_texts = {unit.text for unit in load_units([SEED])}
    assert len(new_texts) == 3 and not archive_texts & set(new_texts)

    grown, model, vectors = _embed_run([SEED, new_round], cache)
    assert sorted(model.embedded) == sorted(new_texts)
    assert grown.n_new == 3
    assert grown.n_cached == len(vectors) - 3 == archive.n_new + archive.n_cached


def test_separate_model_ids_do_not_share_vectors(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _embed_run([SEED], cache)

    class OtherModel(CountingEmbedder):
        @property
        def model_id(self) -> str:
            return "counting-v2"

    other = OtherModel()
    embedder = CachedEmbedder(other, EmbeddingCache(cache))
    texts = [unit.text for unit in load_units([SEED])]
    embedder.encode(texts)
    # New weights mean new vectors: nothing cached under v1 may be served for v2.
    assert embedder.n_new == len(set(texts)) == len(other.embedded)


def test_run_json_counts_rerun_and_new_round(tmp_path: Path, new_round: Path, monkeypatch) -> None:
    made: list[CountingEmbedder] = []
    real = embedders.make_embedder

    def make(spec: str, **kwargs) -> Embedder:
        if spec != "counting":
            return real(spec, **kwargs)
        made.append(CountingEmbedder())
        return made[-1]

    # run_round builds its embedder from the spec through make_embedder, as the CLI does.
    for module in (embedders, pipeline.workflow, pipeline.themes.store):
        monkeypatch.setattr(module, "make_embedder", make)
    cache = tmp_path / "cache"

    def counts(paths: list[Path], name: str) -> dict[str, int]:
        out = run_round(paths, tmp_path / name, RunOptions(embedder="counting", cache_dir=cache)).out_dir
        return json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]

    first = counts([SEED], "first")
    # Units (as passages) and codebook themes (as queries): everything was new.
    assert first["embedded_new"] == len(made[0].embedded) > 0

    again = counts([SEED], "again")
    assert again["embedded_new"] == 0 and made[1].embedded == []
    assert again["embedded_cached"] == first["embedded_new"] + first["embedded_cached"]

    grown = counts([SEED, new_round], "grown")
    # The new units' texts, and those of their headings that the seed round does not have.
    seen = set(unit_passages(load_units([SEED])))
    new_texts = [text for text in unit_passages(load_units([new_round])) if text not in seen]
    assert grown["units"] == first["units"] + 3
    passages = [text for text, kind in zip(made[2].embedded, made[2].kinds, strict=True) if kind == "passage"]
    assert len(new_texts) >= 3 and sorted(passages) == sorted(new_texts)
    # Queries: new-theme candidates of the grown round, coded as their promotion would make them (their
    # descriptions, and examples not embedded as queries before; the codebook's come from the cache).
    assert grown["embedded_new"] == len(made[2].embedded)
