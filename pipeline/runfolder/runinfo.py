"""``run.json``: what a run records so that it can be reproduced and read, built in one place for ``run`` and
``assign``.

Its keys: ``inputs`` (each document read: path, sha256, format, encoding), ``parameters`` (the command and
its settings: :func:`run_parameters`, :func:`assign_parameters`), ``seed``, ``versions`` (the packages a
saved model depends on), ``timings`` (seconds per stage), ``counts`` (:func:`counts`, and at export the
units, cards and unknown codes), ``stability`` (the NMF cross-check of a fit) and ``programs`` (the
registry's code -> name). :func:`run_info` assembles them; :func:`run_json` adds the export's counts and
time and gives the file's text.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence

from pipeline.core.options import RunOptions
from pipeline.core.records import Assignment, ThemeCard, Unit, Unplaced
from pipeline.read.programs import ProgramRegistry
from pipeline.read.rounds import Round, unplaced_line_count
from pipeline.themes.codebook import Codebook
from pipeline.themes.corrections import CodingRecord
from pipeline.themes.openset import is_new_theme
from pipeline.themes.store import package_versions


def input_entries(rounds: Sequence[Round]) -> list[dict]:
    """``inputs``: every document of the rounds read, with its sha256, format and encoding."""
    return [{"path": doc.path, "sha256": doc.sha256, "format": doc.format, "encoding": doc.encoding}
            for rnd in rounds for doc in rnd.documents]


def counts(assignments: Sequence[Assignment], corrected: int, unplaced: Sequence[Unplaced],
           embedder=None) -> dict[str, int]:
    """``counts`` before export: the embedding cache's counters (``embedder``, the cached embedder a model used;
    None for a model without embeddings), units per theme source, units that need review, units a researcher
    decided (``corrected``: the rows of the record applied), the new-theme candidates and their units (after
    corrections) and the lines no unit took."""
    new = [a.theme_id for a in assignments if is_new_theme(a.theme_id, a.theme_source)]
    return {
        "embedded_new": int(getattr(embedder, "n_new", 0)), "embedded_cached": int(getattr(embedder, "n_cached", 0)),
        **{f"units_{source}": sum(a.theme_source == source for a in assignments)
           for source in ("codebook", "discovered", "unassigned")},
        "needs_review": sum(a.needs_review for a in assignments), "corrected": corrected,
        "new_themes": len(set(new)), "new_theme_units": len(new), "unplaced_lines": unplaced_line_count(unplaced),
    }


def run_parameters(options: RunOptions, book: Codebook | None, model, save_model: str | os.PathLike | None,
                   record: CodingRecord) -> dict:
    """``parameters`` of ``advisory run``: the codebook (path and sha256), the embedder (its ``model_id`` and token
    budget when the model embeds), the theme model's value parameters, registry, model folder, workers and the
    corrections files read."""
    params = {
        "command": "run", "codebook": None if book is None else {"path": book.source, "sha256": book.sha256},
        "embedder": options.embedder, "model": model.value_params(), "programs": options.programs_name,
        "save_model": None if save_model is None else str(save_model), "workers": options.workers,
        "corrections": record.run_info(),
    }
    if model.needs_embedder:
        params["embedder_model_id"] = model.embedder.model_id
        params["embedder_max_tokens"] = model.embedder.max_tokens
    return params


def assign_parameters(options: RunOptions, model_dir: str | os.PathLike, model_info: dict, embedder,
                      record: CodingRecord) -> dict:
    """``parameters`` of ``advisory assign``: the saved model (folder, the versions it was saved with), its
    embedder and token budget (None without one), registry, workers and the corrections files read."""
    return {"command": "assign", "model": str(model_dir), "model_versions": model_info.get("versions"),
            "embedder": None if embedder is None else embedder.name,
            "embedder_max_tokens": None if embedder is None else embedder.max_tokens,
            "programs": options.programs_name, "workers": options.workers, "corrections": record.run_info()}


def run_info(*, inputs: list[dict], parameters: dict, seed: int, timings: dict[str, float], counts: dict[str, int],
             programs: str | os.PathLike | None, nmf: tuple[float | None, int] | None = None) -> dict:
    """``run.json``'s content before export; ``nmf``: the fit's NMF cross-check ``(ari, units)`` (``assign``
    fits nothing and records ``nmf_ari`` None)."""
    stability = {"nmf_ari": None} if nmf is None else {
        "nmf_ari": None if nmf[0] is None else round(nmf[0], 4), "nmf_units": nmf[1]}
    registry = ProgramRegistry.load(programs)
    return {"inputs": inputs, "parameters": parameters, "seed": seed, "versions": package_versions(),
            "timings": timings, "counts": counts, "stability": stability,
            "programs": {code: p.name for code, p in registry.programs.items()}}


def run_json(info: dict, units: Sequence[Unit], cards: Sequence[ThemeCard], export_seconds: float) -> str:
    """The text of ``run.json``: ``info`` with ``counts.units``, ``counts.themes``, ``counts.unknown_codes`` and
    ``timings.export`` merged into any counts and timings already there (keys sorted, UTF-8 text)."""
    info = copy.deepcopy(dict(info))
    info["counts"] = {**(info.get("counts") or {}), "units": len(units), "themes": len(cards),
                      "unknown_codes": sum(len(u.unknown_codes) for u in units)}
    info["timings"] = {**(info.get("timings") or {}), "export": round(export_seconds, 4)}
    return json.dumps(info, sort_keys=True, ensure_ascii=False, indent=2, default=str) + "\n"

