"""Default locations inside the repository, in one place for the command line and the library."""

from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROUND = PACKAGE_ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
DEFAULT_CODEBOOK = PACKAGE_ROOT / "corpus" / "themes.yaml"
DEFAULT_OUT = PACKAGE_ROOT / "outputs"
DEFAULT_CACHE_DIR = PACKAGE_ROOT / ".cache" / "embeddings"
# Comparisons go beside the run folders, not into one: a run folder is replaced as a whole.
DEFAULT_COMPARE_DIR = PACKAGE_ROOT / "comparisons"
