"""The sentence-transformers embedder picks the GPU when torch sees one.

The first test checks the choice itself on any machine (torch is told a GPU is there); the second
runs the real model on a real GPU and is skipped on machines without one (CI has none).
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.features.embedders import SentenceTransformerEmbedder
from tests.support.st_model import build_tiny_st_model

torch = pytest.importorskip("torch")
TEXTS = ["넥스트로컬 청년 창업 지원", "생활인구 유입을 위한 워케이션", "상생상회 판로", "성과지표 평가 체계"]


@pytest.fixture(scope="module")
def st_folder(tmp_path_factory):
    return build_tiny_st_model(tmp_path_factory.mktemp("st"))


def test_device_defaults_to_cuda_when_torch_sees_a_gpu(st_folder, monkeypatch):
    import sentence_transformers

    made = []

    class Recorder:
        def __init__(self, path, device, local_files_only):
            made.append(device)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Recorder)
    SentenceTransformerEmbedder(str(st_folder))._load()
    SentenceTransformerEmbedder(str(st_folder), device="cpu")._load()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    SentenceTransformerEmbedder(str(st_folder))._load()
    assert made == ["cuda", "cpu", "cpu"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_st_embedder_encodes_on_the_gpu_as_on_the_cpu(st_folder):
    gpu = SentenceTransformerEmbedder(str(st_folder))
    vectors = gpu.encode(TEXTS)
    assert gpu._load().device.type == "cuda"
    cpu = SentenceTransformerEmbedder(str(st_folder), device="cpu").encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == cpu.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, cpu, atol=1e-3)
