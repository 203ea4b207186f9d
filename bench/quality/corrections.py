"""A saved model and its researcher's corrections: what ``assign`` gives back, and what else moves.

``python -m bench.quality.corrections``

The bundled round is run as ``advisory run --corrections FILE --save-model DIR`` does, once without
corrections (the reference model) and once per scenario:

- ``runner_up``: the three units the model was least sure of moved to their runner-up theme, and the
  fourth to a theme the researcher names (a researcher theme);
- ``gold_errors``: every unit whose theme the gold coding (``corpus/eval/seed_gold.csv``) does not accept,
  moved to its gold theme;
- ``full_record``: every unit given its gold theme (a QDA project imported whole).

Per scenario it reports how many corrections ``assign`` on the same round gives back, and, on the same
round and on three other rounds (``tests/fixtures/new_round.txt``, ``tests/fixtures/round_2025.txt`` and
the bundled round as plain paragraphs without headings), how many units nobody corrected take another
theme with the corrected model than with the reference model, and why: a near-identical example the
model remembers (``memory``) or the prototypes it learnt from the corrections (``prototype``), with how
many of those the reference model had flagged for review (a near tie). On the plain-paragraph round,
whose units are the bundled round's texts, the gold accuracy of both models is given too. Block
``corrections``; embeddings are cached in ``bench/out/cache``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import OUT, ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import paragraphs
from bench.lib.tables import Column, figure, table, text
from pipeline.core.options import RunOptions
from pipeline.read.rounds import load_units
from pipeline.study.evaluate import match_units, read_gold
from pipeline.themes.corrections import researcher_theme_id
from pipeline.workflow import assign_units, run_round

ROUND = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
GOLD = ROOT / "corpus" / "eval" / "seed_gold.csv"
OTHERS = {"new_round": ROOT / "tests" / "fixtures" / "new_round.txt",
          "round_2025": ROOT / "tests" / "fixtures" / "round_2025.txt"}
CACHE = OUT / "cache"


def _gold_of(units) -> dict[str, dict]:
    pairs, _ = match_units(read_gold(GOLD), [u.text for u in units])
    return {units[i].rec_id: row for row, i in pairs}


def _accepted(theme_id: str, row: dict) -> bool:
    return theme_id in [row["theme_id"], *row["accept"].split(";")]


def _scenarios(base) -> dict[str, list[tuple[str, str, str]]]:
    """Scenario -> corrections ``(rec_id, theme_id, theme_label)``."""
    gold = _gold_of(base.units)
    unsure = sorted((a for a in base.assignments if a.theme_margin is not None), key=lambda a: a.theme_margin)
    runner_up = [(a.rec_id, a.theme_runner_up, "") for a in unsure[:3]] + [(unsure[3].rec_id, "", "지역 축제·관광")]
    wrong = [(a.rec_id, gold[a.rec_id]["theme_id"], "") for a in base.assignments
             if a.rec_id in gold and not _accepted(a.theme_id, gold[a.rec_id])]
    full = [(r, row["theme_id"], "") for r, row in gold.items()]
    return {"runner_up": runner_up, "gold_errors": wrong, "full_record": full}


def _write(path: Path, rows) -> Path:
    path.write_text("rec_id,theme_id,theme_label\n" + "".join(f"{r},{t},{label}\n" for r, t, label in rows),
                    encoding="utf-8-sig")
    return path


def _moved(reference, corrected, model, skip: set[str], details: list[str], label: str) -> tuple[int, ...]:
    """(units compared, moved by memory, moved by prototypes, of the latter flagged for review before); one line
    per unit moved by prototypes is added to ``details`` (with the gold coding's verdict where there is one)."""
    before = {a.rec_id: a for a in reference.assignments}
    units = {u.rec_id: u for u in corrected.units}
    gold = _gold_of(corrected.units)
    memory, prototype, flagged = 0, 0, 0
    for a in corrected.assignments:
        if a.rec_id in skip or a.theme_id == before[a.rec_id].theme_id:
            continue
        found, _ = model.memory_.match([a.rec_id], [units[a.rec_id].text]) if model.memory_ else ([-1], None)
        if found[0] >= 0:
            memory += 1
            continue
        prototype += 1
        old = before[a.rec_id]
        flagged += old.needs_review
        verdict = ""
        if a.rec_id in gold:
            verdict = f"; gold {'accepts' if _accepted(old.theme_id, gold[a.rec_id]) else 'rejects'} the old theme, " \
                      f"{'accepts' if _accepted(a.theme_id, gold[a.rec_id]) else 'rejects'} the new"
        details.append(f"- {label}: {a.rec_id} {old.theme_id} → {a.theme_id} (margin before "
                       f"{old.theme_margin}, review {int(old.needs_review)}{verdict})")
    return len(corrected.assignments) - len(skip & set(before)), memory, prototype, flagged


def _accuracy(result) -> float:
    gold = _gold_of(result.units)
    hits = [_accepted(a.theme_id, gold[a.rec_id]) for a in result.assignments if a.rec_id in gold]
    return sum(hits) / len(hits)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: every scenario against the reference model; records block ``corrections``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_output_options(parser)
    args = parser.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    rows: list[list[object]] = []
    details: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plain = tmp / "bundled_plain.txt"
        plain.write_text(paragraphs(load_units([ROUND])), encoding="utf-8")
        rounds = {"same round": [ROUND], **{k: [v] for k, v in OTHERS.items()}, "bundled_plain": [plain]}
        options = RunOptions(cache_dir=CACHE)
        base = run_round([ROUND], tmp / "base", options, save_model=tmp / "model_base")
        reference = {name: assign_units(paths, tmp / "model_base", options) for name, paths in rounds.items()}
        for scenario, chosen in _scenarios(base).items():
            fixes = {r: t or researcher_theme_id(label) for r, t, label in chosen}
            run_round([ROUND], tmp / scenario, options, corrections=_write(tmp / f"{scenario}.csv", chosen),
                      save_model=tmp / f"model_{scenario}")
            for name, paths in rounds.items():
                got = assign_units(paths, tmp / f"model_{scenario}", options)
                skip = set(fixes) if name == "same round" else set()
                n, memory, prototype, flagged = _moved(reference[name], got, got.model, skip, details,
                                                       f"{scenario}, {name}")
                reproduced = ""
                if name == "same round":
                    themes = {a.rec_id: a.theme_id for a in got.assignments}
                    reproduced = f"{sum(themes[r] == t for r, t in fixes.items())}/{len(fixes)}"
                accuracy = (f"{_accuracy(reference[name]):.2f} → {_accuracy(got):.2f}"
                            if name == "bundled_plain" else "")
                rows.append([scenario, len(fixes), reproduced, name, n, memory, [prototype, flagged], accuracy])
    columns = [Column("scenario"), figure("corrections", "{:,}"), Column("reproduced on the same round", None,
               "right"), Column("round"), figure("units", "{:,}"), figure("moved: memory", "{:,}"),
               figure("moved: learnt prototypes (flagged before)", "{} ({})"),
               Column("plain-round accuracy before → after")]
    moved = "\n".join(details) or "none"
    recorder.record("corrections", "Corrections: what a saved model gives back, and what else moves",
                    [table(columns, rows), text("Units moved by a learnt prototype:\n\n" + moved)])


if __name__ == "__main__":
    main()
