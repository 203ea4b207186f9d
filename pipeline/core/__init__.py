"""The vocabulary every layer shares: typed records, the one input error, default locations, the run
options, atomic writes and the folder rule, formula-safe cells and progress bars (``progress``).
Imports nothing else of ``pipeline``."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    # records: what flows between the stages
    "Line": "records", "Document": "records", "Unit": "records", "Unplaced": "records", "Program": "records",
    "Assignment": "records",
    "ThemeInfo": "records", "ThemeCard": "records", "UNASSIGNED_ID": "records", "UNASSIGNED_LABEL": "records",
    "InputError": "errors", "reading": "errors", "one_line": "errors",
    "CORPUS_DIR": "paths", "DEFAULT_ROUND": "paths", "DEFAULT_CODEBOOK": "paths", "DEFAULT_PROGRAMS": "paths",
    "DEFAULT_OUT": "paths", "default_cache_dir": "paths", "BUNDLED_PROGRAMS": "paths",
    "RunOptions": "options", "DEFAULT_OPTIONS": "options", "DEFAULT_EMBEDDER": "options",
    "Target": "atomic", "replacing": "atomic", "write_file": "atomic", "remove_debris": "atomic",
    "FolderKind": "atomic", "refuse_inside": "atomic",
    "progress": "progress", "Stages": "progress", "STAGE_NAMES": "progress", "announce": "progress",
    "csv_text": "cells", "xlsx_text": "cells", "from_csv_text": "cells",
})
