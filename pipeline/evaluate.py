"""Agreement of a run folder with a human coding (``advisory evaluate --gold FILE --run DIR``).

The gold CSV has one row per coded unit: ``unit, key, theme_id, accept, program_codes, fields``
(``key`` is the start of the unit's text; ``accept`` the ``;``-separated themes a coder would
accept). A gold row is matched to the run's unit whose text starts with ``key``, ignoring
whitespace, Unicode compatibility forms and leading list markers; each run unit matches at most
once. Reported on the matched units:

- ``accuracy``: predicted theme in ``accept``;
- ``ari``, ``ami``, ``nmi``, ``kappa``: predicted vs gold ``theme_id`` (ARI/AMI correct for
  chance, which NMI does not: on 52 units chance alone scores NMI ~0.36);
- ``program_precision``/``program_recall``: micro-averaged over units, codes split on ``;``;
- ``fields_accuracy``: the unit's field set equals the gold one;
- ``per_theme``: size and accuracy per gold theme; ``unmatched``: gold keys with no unit.
"""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
from pathlib import Path

from pipeline.errors import InputError

GOLD_COLUMNS = ("unit", "key", "theme_id", "accept", "program_codes", "fields")
# List markers a unit may keep at its start (split items keep their ①, sub-points their dash).
_LEADING = re.compile(r"^[\s\-–·▪※*○◦●ㅇ①-⑳➀-➉]+")


def _norm(text: str) -> str:
    # Markers go before NFKC, which would turn ① into a plain 1.
    return "".join(unicodedata.normalize("NFKC", _LEADING.sub("", text)).split())


def _split(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(";") if part.strip()}


def _read_csv(path: Path, required: tuple[str, ...], what: str) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(str(path), f"cannot read {what} ({err.__class__.__name__})") from err
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(str(path), f"{what} lacks column(s) {', '.join(missing)}")
    return rows


def read_gold(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a gold coding CSV; raises ``InputError`` when unreadable or lacking columns."""
    return _read_csv(Path(path), GOLD_COLUMNS, "gold coding")


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
    recs = _read_csv(run_path / "recommendations.csv", ("rec_id", "text", "theme_id", "program_codes", "fields"),
                     "recommendations")
    matched, unmatched = match_units(gold, [r["text"] for r in recs])
    pairs = [(row, recs[i]) for row, i in matched]
    if not pairs:
        raise InputError(str(gold_path), f"no gold key matches a unit of {run_path}")

    truth = [g["theme_id"] for g, _ in pairs]
    pred = [r["theme_id"] for _, r in pairs]
    hits = [r["theme_id"] in _split(g["accept"]) | {g["theme_id"]} for g, r in pairs]
    true_codes = [_split(g["program_codes"]) for g, _ in pairs]
    pred_codes = [_split(r["program_codes"]) for _, r in pairs]
    found = sum(len(t & p) for t, p in zip(true_codes, pred_codes, strict=True))
    n_pred, n_true = sum(map(len, pred_codes)), sum(map(len, true_codes))
    per_theme: dict[str, dict] = {}
    for theme, hit in zip(truth, hits, strict=True):
        entry = per_theme.setdefault(theme, {"n": 0, "correct": 0})
        entry["n"] += 1
        entry["correct"] += int(hit)
    for entry in per_theme.values():
        entry["accuracy"] = round(entry["correct"] / entry["n"], 4)
    return {
        "gold": str(gold_path),
        "run": str(run_path),
        "n_gold": len(gold),
        "n_matched": len(pairs),
        "n_run_units": len(recs),
        "unmatched": unmatched,
        "n_predicted_themes": len(set(pred)),
        "accuracy": round(sum(hits) / len(hits), 4),
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
        "ami": round(float(adjusted_mutual_info_score(truth, pred)), 4),
        "nmi": round(float(normalized_mutual_info_score(truth, pred)), 4),
        "kappa": round(float(cohen_kappa_score(truth, pred)), 4),
        "program_precision": round(found / n_pred, 4) if n_pred else 1.0,
        "program_recall": round(found / n_true, 4) if n_true else 1.0,
        "fields_accuracy": round(
            sum(_split(g["fields"]) == _split(r["fields"]) for g, r in pairs) / len(pairs), 4),
        "per_theme": dict(sorted(per_theme.items())),
    }


def format_table(result: dict) -> str:
    """The headline metrics as an aligned two-column text table, then per-theme accuracy."""
    lines = [f"gold {result['gold']}  vs  run {result['run']}",
             f"matched {result['n_matched']}/{result['n_gold']} gold units ({result['n_run_units']} in run)"]
    for name in ("accuracy", "ari", "ami", "nmi", "kappa", "program_precision", "program_recall", "fields_accuracy"):
        lines.append(f"  {name:<18} {result[name]:.4f}")
    lines.append("  per gold theme (n, accuracy):")
    for theme, entry in result["per_theme"].items():
        lines.append(f"    {theme:<24} {entry['n']:>3}  {entry['accuracy']:.2f}")
    if result["unmatched"]:
        lines.append(f"  unmatched gold units: {', '.join(result['unmatched'])}")
    return "\n".join(lines)


def write_json(result: dict, path: str | os.PathLike) -> Path:
    """Write ``result`` as UTF-8 JSON to ``path`` (created or replaced); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
