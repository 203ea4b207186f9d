"""The run folder: its schema (every table's columns, records <-> rows, ``run.json``), theme cards, matrices and
the workbook, report.html and summary.md (one HTML stack with the embedded font subset), heatmaps;
``write_run`` writes it atomically, ``load_run`` reads it back; a candidate promoted into a codebook."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "theme_cards": "cards",
    "RunFolder": "folder", "load_run": "folder", "write_run": "folder", "RUN_FOLDER": "folder",
    "prior_record": "folder",
    "RUN_FILES": "schema", "RECOMMENDATION_COLUMNS": "schema", "THEME_COLUMNS": "schema", "UNIT_COLUMNS": "schema",
    "UNPLACED_COLUMNS": "schema", "RECORD_COLUMNS": "schema", "recommendations_frame": "schema",
    "themes_frame": "schema", "write_csv": "schema", "unit_from_cells": "schema", "units_file": "schema",
    "unplaced_csv": "schema", "corrections_csv": "schema",
    "complete_matrix": "matrices", "program_matrix": "matrices", "cell_units": "matrices",
    "write_xlsx": "workbook", "xlsx_sheets": "workbook", "run_info": "runinfo", "run_json": "runinfo",
    "promote_candidate": "promotion", "run_codebook": "promotion",
    "render_report": "report", "render_summary_md": "report",
    "heatmap": "plots", "share_lines": "plots", "share_change_chart": "plots",
    "subset_font": "fonts", "render_page": "pages", "embedded_json": "pages",
})
