"""Agreement of a run folder with a human coding (``advisory evaluate --gold FILE --run DIR``).

The gold CSV has one row per coded unit: ``unit, key, theme_id, accept, program_codes, fields``
(``key`` is the start of the unit's text; ``accept`` the ``;``-separated themes a coder would
accept). A gold row is matched to the run's unit whose text starts with ``key``, ignoring
whitespace, Unicode compatibility forms and leading list markers; each run unit matches at most
once. Reported on the matched units:

- ``accuracy``: predicted theme in ``accept``;
- ``ari``, ``ami``, ``nmi``, ``kappa``: predicted vs gold ``theme_id`` (ARI/AMI correct for
  chance, which NMI does not: on 52 units chance alone scores NMI ~0.36; Cohen's kappa corrects
  accuracy for chance agreement on the same labels);
- ``program_precision``/``program_recall``: micro-averaged over units, codes split on ``;``;
- ``fields_accuracy``: the unit's field set equals the gold one;
- ``per_theme``: per gold theme its size and accuracy, and per theme (gold or predicted)
  ``precision``, ``recall``, ``f1``. These and the ``confusion`` matrix count a unit under its
  *credited* gold theme: the predicted one when ``accept`` lists it, else ``theme_id``, so the
  diagonal sums to ``accuracy``;
- ``mapped_accuracy``: every predicted theme is matched to at most one gold theme by the Hungarian
  assignment (``scipy.optimize.linear_sum_assignment``, maximising the units they share) and the
  accuracy of the mapped labels is reported. A discovery-only run (no predicted theme is a gold
  theme) has no meaningful plain ``accuracy``: it is ``None`` there, never a bare 0, and
  ``mode`` is ``"discovery"`` (else ``"codebook"``);
- ``unmatched``: gold keys with no unit;
- ``new_themes`` (:func:`new_theme_agreement`): gold units whose theme is not in the run's codebook
  (``new``) against the run's new-theme candidates: the share of them ``surfaced`` (put in a
  candidate), how they are ``grouped`` (ARI of candidate against gold theme over every unit in a
  candidate, and per gold theme the share of its surfaced units in its largest candidate), and the
  known units sent to a candidate. The codebook is the run's (``run.json``: the codebook file, or the
  saved model's for ``assign``), else the bundled one.

``write_json`` writes the metrics as JSON and, beside it, the confusion matrix as CSV (UTF-8 with
BOM, rows gold, columns predicted, Korean labels) and as a PNG heatmap with Korean labels.
"""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.errors import InputError
from pipeline.runfolder.folder import read_recommendations
from pipeline.runfolder.plots import heatmap
from pipeline.themes.codebook import load_codebook
from pipeline.themes.openset import is_new_theme

GOLD_COLUMNS = ("unit", "key", "theme_id", "accept", "program_codes", "fields")
# List markers a unit may keep at its start (split items keep their ①, sub-points their dash).
_LEADING = re.compile(r"^[\s\-–·▪※*○◦●ㅇ①-⑳➀-➉]+")


def _norm(text: str) -> str:
    # Markers go before NFKC, which would turn ① into a plain 1.
    return "".join(unicodedata.normalize("NFKC", _LEADING.sub("", text)).split())


def _split(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(";") if part.strip()}


def read_gold(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a gold coding CSV; raises ``InputError`` when unreadable or lacking columns."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(str(path), f"정답 코딩을 읽을 수 없습니다 ({err.__class__.__name__})") from err
    missing = [c for c in GOLD_COLUMNS if c not in header]
    if missing:
        raise InputError(str(path), f"정답 코딩에 {', '.join(missing)} 열이 없습니다")
    return rows


def match_units(gold: list[dict[str, str]], texts: list[str]) -> tuple[list[tuple[dict[str, str], int]], list[str]]:
    """Pair each gold row with the first unused unit text that starts with its ``key``.

    Returns ``(pairs, unmatched)``: (gold row, index into ``texts``) pairs and the ``unit`` ids
    (or keys) of gold rows without a unit.
    """
    normed = [_norm(t) for t in texts]
    used: set[int] = set()
    pairs, unmatched = [], []
    for row in gold:
        key = _norm(row["key"])
        hit = next((i for i, t in enumerate(normed) if i not in used and key and t.startswith(key)), None)
        if hit is None:
            unmatched.append(row["unit"] or row["key"])
            continue
        used.add(hit)
        pairs.append((row, hit))
    return pairs, unmatched


def evaluate(gold_csv: str | os.PathLike, run_dir: str | os.PathLike) -> dict:
    """Compare the run folder ``run_dir`` with the gold coding ``gold_csv``; returns the metrics dict.

    Raises ``InputError`` when either file is missing or lacks columns, or when no gold key
    matches any unit.
    """
    from sklearn.metrics import (
        adjusted_mutual_info_score,
        adjusted_rand_score,
        cohen_kappa_score,
        normalized_mutual_info_score,
    )

    gold_path, run_path = Path(gold_csv), Path(run_dir)
    gold = read_gold(gold_path)
    recs = read_recommendations(run_path).to_dict("records")
    matched, unmatched = match_units(gold, [r["text"] for r in recs])
    pairs = [(row, recs[i]) for row, i in matched]
    if not pairs:
        raise InputError(str(gold_path), f"정답의 어느 키도 {run_path}의 권고와 맞지 않습니다")

    truth = [g["theme_id"] for g, _ in pairs]
    pred = [r["theme_id"] for _, r in pairs]
    accepts = [_split(g["accept"]) | {g["theme_id"]} for g, _ in pairs]
    hits = [p in ok for p, ok in zip(pred, accepts, strict=True)]
    credited = [p if hit else t for p, t, hit in zip(pred, truth, hits, strict=True)]
    discovery = not set(pred) & set(truth)
    labels = {r["theme_id"]: r["theme_label"] for r in recs if r.get("theme_label")}
    return {
        "gold": str(gold_path),
        "run": str(run_path),
        "n_gold": len(gold),
        "n_matched": len(pairs),
        "n_run_units": len(recs),
        "unmatched": unmatched,
        "n_predicted_themes": len(set(pred)),
        "mode": "discovery" if discovery else "codebook",
        "accuracy": None if discovery else round(sum(hits) / len(hits), 4),
        "mapped_accuracy": round(_mapped_accuracy(truth, pred, accepts), 4),
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
        "ami": round(float(adjusted_mutual_info_score(truth, pred)), 4),
        "nmi": round(float(normalized_mutual_info_score(truth, pred)), 4),
        "kappa": round(float(cohen_kappa_score(truth, pred)), 4),
        **_program_scores(pairs),
        "per_theme": _per_theme(truth, hits, credited, pred),
        "confusion": _confusion(credited, pred, labels),
        "new_themes": new_theme_agreement(truth, pred, [is_new_theme(r["theme_id"], r["theme_source"])
                                                        for _, r in pairs], hits, _codebook_ids(run_path, recs)),
    }


def _program_scores(pairs: list[tuple[dict, dict]]) -> dict[str, float]:
    """Precision and recall of the units' program codes against the gold's, and the share of units whose fields
    are the gold's (1.0 where there is nothing to score)."""
    true_codes = [_split(g["program_codes"]) for g, _ in pairs]
    pred_codes = [_split(r["program_codes"]) for _, r in pairs]
    found = sum(len(t & p) for t, p in zip(true_codes, pred_codes, strict=True))
    n_pred, n_true = sum(map(len, pred_codes)), sum(map(len, true_codes))
    return {
        "program_precision": round(found / n_pred, 4) if n_pred else 1.0,
        "program_recall": round(found / n_true, 4) if n_true else 1.0,
        "fields_accuracy": round(sum(_split(g["fields"]) == _split(r["fields"]) for g, r in pairs) / len(pairs), 4),
    }


def _per_theme(truth: list[str], hits: list[bool], credited: list[str], pred: list[str]) -> dict[str, dict]:
    """Per gold theme: its units, how many the run got right and the accuracy, then precision, recall and F1 of
    every theme either side names (a theme only the run names has no accuracy); themes in id order."""
    per_theme: dict[str, dict] = {}
    for theme, hit in zip(truth, hits, strict=True):
        entry = per_theme.setdefault(theme, {"n": 0, "correct": 0})
        entry["n"] += 1
        entry["correct"] += int(hit)
    for entry in per_theme.values():
        entry["accuracy"] = round(entry["correct"] / entry["n"], 4)
    for theme, entry in _precision_recall(credited, pred, set(truth)).items():
        per_theme.setdefault(theme, {"n": 0, "correct": 0, "accuracy": None}).update(entry)
    return dict(sorted(per_theme.items()))


def new_theme_agreement(truth: list[str], pred: list[str], new: list[bool], hits: list[bool],
                        known_ids: set[str]) -> dict:
    """How a run treats gold units whose theme its codebook lacks, and the others.

    In, per matched unit: gold theme, predicted theme, whether the prediction is a new-theme
    candidate, whether it is credited (in ``accept``); and the codebook's theme ids. Out:
    ``n_new_gold`` (units whose gold theme is not in ``known_ids``), ``surfaced`` (their share in a
    candidate; None without any), ``grouped_ari`` (ARI of candidate against gold theme over every
    unit in a candidate; None under two such units), ``new_themes_found`` (candidates holding a
    gold-new unit), ``per_new_theme`` (per gold-new theme: ``n``, ``surfaced``, ``largest_group``:
    the share of its surfaced units in its most common candidate), ``known_to_new`` (known units in a
    candidate) with its share, and ``known_accuracy`` (accuracy on the known units).
    """
    from sklearn.metrics import adjusted_rand_score

    gold_new = [t not in known_ids for t in truth]
    flagged = [i for i, is_new in enumerate(new) if is_new]
    per_theme: dict[str, dict] = {}
    for theme in sorted({t for t, g in zip(truth, gold_new, strict=True) if g}):
        rows = [i for i, t in enumerate(truth) if t == theme]
        found = [pred[i] for i in rows if new[i]]
        largest = max((found.count(p) for p in set(found)), default=0)
        per_theme[theme] = {"n": len(rows), "surfaced": round(len(found) / len(rows), 4),
                            "largest_group": round(largest / len(found), 4) if found else None}
    n_new, n_known = sum(gold_new), len(truth) - sum(gold_new)
    surfaced = [i for i in flagged if gold_new[i]]
    known_to_new = len(flagged) - len(surfaced)
    known_hits = [h and not n for h, n, g in zip(hits, new, gold_new, strict=True) if not g]
    return {
        "n_new_gold": n_new,
        "surfaced": round(len(surfaced) / n_new, 4) if n_new else None,
        "grouped_ari": round(float(adjusted_rand_score([truth[i] for i in flagged], [pred[i] for i in flagged])), 4)
        if len(flagged) >= 2 else None,
        "new_themes_found": len({pred[i] for i in surfaced}),
        "per_new_theme": per_theme,
        "known_to_new": known_to_new,
        "known_to_new_share": round(known_to_new / n_known, 4) if n_known else None,
        "known_accuracy": round(sum(known_hits) / n_known, 4) if n_known else None,
    }


def _codebook_ids(run: Path, recs: list[dict]) -> set[str]:
    """The theme ids of the codebook a run was made with: the codebook file ``run.json`` names, or for an
    ``assign`` run the saved model's; else the bundled codebook's. Codebook themes of the run count too."""
    ids = {r["theme_id"] for r in recs if r.get("theme_source") == "codebook"}
    try:
        params = json.loads((run / "run.json").read_text(encoding="utf-8")).get("parameters") or {}
    except (OSError, ValueError):
        params = {}
    book = params.get("codebook") or {}
    try:
        if book.get("path"):
            return ids | set(load_codebook(book["path"]).ids)
        if params.get("model"):
            model = json.loads((Path(params["model"]) / "model.json").read_text(encoding="utf-8"))
            return ids | {t["id"] for t in (model.get("codebook") or {}).get("themes", [])}
    except (InputError, OSError, ValueError, TypeError, AttributeError):
        pass
    return ids | set(_codebook_labels())


def _precision_recall(truth: list[str], pred: list[str], themes: set[str]) -> dict[str, dict[str, float]]:
    """Per theme (of ``themes``, ``truth`` or ``pred``): precision, recall and F1 of ``pred`` against ``truth``."""
    out = {}
    for theme in sorted(themes | set(truth) | set(pred)):
        tp = sum(t == p == theme for t, p in zip(truth, pred, strict=True))
        n_pred, n_true = pred.count(theme), truth.count(theme)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        out[theme] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
    return out


def _mapped_accuracy(truth: list[str], pred: list[str], accepts: list[set[str]]) -> float:
    """Accuracy after mapping each predicted theme to one gold theme by the Hungarian assignment.

    The assignment maximises the number of units whose gold ``theme_id`` equals the mapped one; a
    predicted theme left without a partner (more predicted than gold themes) counts as wrong.
    """
    from scipy.optimize import linear_sum_assignment

    gold_ids, pred_ids = sorted(set(truth)), sorted(set(pred))
    counts = np.zeros((len(pred_ids), len(gold_ids)))
    for t, p in zip(truth, pred, strict=True):
        counts[pred_ids.index(p), gold_ids.index(t)] += 1
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = {pred_ids[r]: gold_ids[c] for r, c in zip(rows, cols, strict=True)}
    return sum(mapping.get(p) in ok for p, ok in zip(pred, accepts, strict=True)) / len(pred)


def _confusion(truth: list[str], pred: list[str], labels: dict[str, str]) -> dict:
    """Counts of (gold, predicted) theme pairs: ``gold``/``predicted`` ids, their ``labels``, ``counts`` rows."""
    gold_ids, pred_ids = sorted(set(truth)), sorted(set(pred))
    counts = [[sum(t == g and p == q for t, p in zip(truth, pred, strict=True)) for q in pred_ids]
              for g in gold_ids]
    names = {**_codebook_labels(), **labels}
    return {"gold": gold_ids, "predicted": pred_ids, "labels": {i: names.get(i, i) for i in {*gold_ids, *pred_ids}},
            "counts": counts}


def _codebook_labels() -> dict[str, str]:
    """Korean labels of the bundled codebook's themes (gold themes the run never predicted need one too)."""
    try:
        return {t.theme_id: t.label for t in load_codebook().themes}
    except InputError:
        return {}


def format_table(result: dict) -> str:
    """The headline metrics as an aligned two-column text table, then per-theme accuracy."""
    lines = [f"정답 {result['gold']}  대  결과 폴더 {result['run']}",
             f"맞춘 정답 권고 {result['n_matched']}/{result['n_gold']}건 (결과 폴더의 권고 {result['n_run_units']}건)"]
    if result["mode"] == "discovery":
        lines.append("  발견 모드 결과 (코드북 주제 없음): accuracy는 주제를 헝가리안 방식으로 짝지은 뒤의 정확도")
    for name in ("accuracy", "mapped_accuracy", "ari", "ami", "nmi", "kappa", "program_precision",
                 "program_recall", "fields_accuracy"):
        value = result[name]
        lines.append(f"  {name:<18} {'-' if value is None else f'{value:.4f}'}")
    lines.append(f"  {'주제':<22} {'n':>3} {'acc':>5} {'prec':>5} {'rec':>5} {'F1':>5}")
    for theme, entry in result["per_theme"].items():
        acc = "" if entry["accuracy"] is None else f"{entry['accuracy']:.2f}"
        lines.append(f"    {theme:<22} {entry['n']:>3} {acc:>5} {entry['precision']:5.2f} {entry['recall']:5.2f} "
                     f"{entry['f1']:5.2f}")
    new = result.get("new_themes") or {}
    if new.get("n_new_gold") or new.get("known_to_new"):
        lines.append(f"  새 주제: 코드북 밖의 정답 권고 {new['n_new_gold']}건 중 {_share(new['surfaced'])}가 후보 "
                     f"{new['new_themes_found']}개에 나타남, 묶음 ARI {_share(new['grouped_ari'])}; 새 주제로 간 기존 "
                     f"주제 권고 {new['known_to_new']}건, 기존 주제 정확도 {_share(new['known_accuracy'])}")
        for theme, entry in new["per_new_theme"].items():
            lines.append(f"    {theme:<22} {entry['n']:>3} 후보에 나타남 {entry['surfaced']:.2f} "
                         f"가장 큰 묶음 {_share(entry['largest_group'])}")
    if result["unmatched"]:
        lines.append(f"  맞추지 못한 정답 권고: {', '.join(result['unmatched'])}")
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def confusion_frame(result: dict) -> pd.DataFrame:
    """The confusion matrix of ``result`` as a table: rows gold, columns predicted, Korean labels."""
    conf = result["confusion"]
    names = conf["labels"]
    return pd.DataFrame(conf["counts"], index=pd.Index([names[g] for g in conf["gold"]], name="정답 주제"),
                        columns=pd.Index([names[p] for p in conf["predicted"]], name="예측 주제"))


def write_json(result: dict, path: str | os.PathLike) -> Path:
    """Write ``result`` as UTF-8 JSON to ``path`` (created or replaced) and its confusion matrix beside it.

    ``NAME.json`` gets ``NAME.confusion.csv`` (UTF-8 with BOM, for Korean Excel) and
    ``NAME.confusion.png`` (heatmap, Korean labels). Returns the JSON path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    frame = confusion_frame(result)
    stem = path.with_suffix("")
    frame.to_csv(f"{stem}.confusion.csv", encoding="utf-8-sig")
    heatmap(frame, f"{stem}.confusion.png", title="정답 × 예측 주제 (권고 수)", xlabel="예측 주제", ylabel="정답 주제")
    return path
