"""Default locations, in one place for the command line and the library.

The bundled corpus (the seed round, ``programs.csv``, ``themes.yaml``, the dictionaries and the gold
coding) has one copy: the top-level ``corpus/`` folder of a checkout, which researchers edit. The wheel
carries the same files as package data under ``pipeline/corpus`` (``pyproject.toml`` maps the one folder
onto the other), so an installed package finds them through :mod:`importlib.resources` and a checkout
finds its own ``corpus/``. Run folders go under the working folder; the embedding cache goes to the
user's cache folder.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from platformdirs import user_cache_path

CACHE_ENV = "ADVISORY_CACHE_DIR"


def _corpus_dir() -> Path:
    packaged = resources.files("pipeline") / "corpus"
    if packaged.is_dir():
        # Installed from the wheel: kiwipiepy and pandas read real files, which a pip install provides.
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "corpus"


CORPUS_DIR = _corpus_dir()
DEFAULT_ROUND = CORPUS_DIR / "rounds" / "000_95284008f5259e47.txt"
DEFAULT_CODEBOOK = CORPUS_DIR / "themes.yaml"
#: How runs and help texts name the bundled program registry: the same words in a checkout and an installed wheel.
BUNDLED_PROGRAMS = "corpus/programs.csv"
DEFAULT_PROGRAMS = CORPUS_DIR.parent / BUNDLED_PROGRAMS
DICTIONARY_DIR = CORPUS_DIR / "dictionaries"
DEFAULT_GOLD = CORPUS_DIR / "eval" / "seed_gold.csv"
DEFAULT_OUT = Path("outputs")
# Comparisons go beside the run folders, not into one: a run folder is replaced as a whole.
DEFAULT_COMPARE_DIR = Path("comparisons")


def default_cache_dir() -> Path:
    """The embedding cache folder: ``$ADVISORY_CACHE_DIR``, else ``embeddings`` in the user's cache folder.

    Read at call time, so setting the variable after import still counts.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    return user_cache_path("advisory-themes", appauthor=False) / "embeddings"
