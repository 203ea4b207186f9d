"""Studying finished runs: agreement with a human coding (``evaluate``), two runs side by side
(``compare``), and the notebooks' helpers (``browse``)."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "read_gold": "evaluate", "match_units": "evaluate",
    "compare_runs": "compare", "compare_programs": "compare", "write_comparison": "compare",
    "find_folder": "browse", "load_run": "browse", "filter_units": "browse", "theme_card": "browse",
    "quotes": "browse",
})
