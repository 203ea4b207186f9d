"""The ``st:`` embedder on the GPU against the CPU: texts per second, same model, same texts.

Model hubs are unreachable, so the model is a random BERT with multilingual-e5-small's encoder
shape (12 layers, 384 wide), built by ``tests/support/st_model.py``; its vectors mean nothing, its cost
per token is what a real model of that size costs. Texts are the bundled round's paragraphs, repeated
to ``--texts``. Prints one JSON line and the table (block ``st-device`` of ``bench/results/st_device.json``);
the GPU part is skipped where torch sees no GPU.

    python -m bench.speed.st_device --texts 10000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence

import numpy as np

from bench.lib.results import Recorder, add_output_options
from bench.lib.tables import Column, figure, table, text
from pipeline.core.paths import DEFAULT_ROUND as SEED
from pipeline.features.embedders import SentenceTransformerEmbedder
from tests.support.st_model import build_tiny_st_model


def _time(embedder: SentenceTransformerEmbedder, texts: list[str]) -> tuple[float, np.ndarray]:
    embedder.encode(texts[:64])  # load the model and warm up before timing
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    return time.perf_counter() - started, vectors


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: time the CPU and (where torch sees one) the GPU; print a JSON line and record the table."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=10000)
    parser.add_argument("--cpu-texts", type=int, default=1000, help="texts timed on the CPU (it is slower)")
    add_output_options(parser)
    args = parser.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    paragraphs = [" ".join(p.split()) for p in SEED.read_text(encoding="utf-8-sig").split("\n\n") if p.strip()]
    texts = [paragraphs[i % len(paragraphs)] + f" ({i})" for i in range(args.texts)]
    result: dict = {"texts": args.texts, "torch": torch.__version__, "cpu_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_tiny_st_model(tmp, hidden_size=384, layers=12, heads=12, max_length=512)
        n_cpu = min(args.cpu_texts, args.texts)
        cpu_seconds, cpu_vectors = _time(SentenceTransformerEmbedder(str(folder), device="cpu", batch_size=64),
                                         texts[:n_cpu])
        result["cpu_texts_per_s"] = round(n_cpu / cpu_seconds, 1)
        if torch.cuda.is_available():
            default = SentenceTransformerEmbedder(str(folder), batch_size=64)
            gpu_seconds, gpu_vectors = _time(default, texts)
            result.update(
                device_chosen=str(default._load().device),
                gpu=torch.cuda.get_device_name(0),
                gpu_texts_per_s=round(args.texts / gpu_seconds, 1),
                gpu_over_cpu=round(cpu_seconds / n_cpu * args.texts / gpu_seconds, 1),
                max_abs_diff_vs_cpu=float(np.abs(gpu_vectors[:n_cpu] - cpu_vectors).max()),
            )
    print(json.dumps(result))
    rows = [[f"CPU, {result['cpu_threads']} torch threads", n_cpu, result["cpu_texts_per_s"]]]
    notes = [f"torch {result['torch']}; no GPU seen: the GPU half was skipped."]
    if "gpu" in result:
        rows.append([f"GPU: {result['gpu']} (chosen by default: {result['device_chosen']})", args.texts,
                     result["gpu_texts_per_s"]])
        notes = [f"torch {result['torch']}. GPU / CPU = **{result['gpu_over_cpu']}x**; largest difference between "
                 f"their vectors {result['max_abs_diff_vs_cpu']:.1e}."]
    columns = [Column("device"), figure("texts", "{:,}"), figure("texts/s", "{:,.1f}")]
    recorder.record("st-device", "The st: embedder on the GPU against the CPU (e5-small-sized random model)",
                    [table(columns, rows), text(" ".join(notes))], data=result)


if __name__ == "__main__":
    main()
