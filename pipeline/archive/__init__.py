"""The archive of rounds: one DuckDB file (``db``), adding, recoding and removing rounds (``rounds``),
and trends over them (``trends``, rendered by ``html``)."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "open_archive": "db", "open_if_any": "db", "read_meta": "db",
    "add_round": "rounds", "add_run_folder": "rounds", "store_round": "rounds", "recode_round": "rounds",
    "remove_round": "rounds", "list_rounds": "rounds", "stored_units": "rounds", "check_round_name": "rounds",
    "trend_tables": "trends", "write_trends": "trends", "export_tables": "trends",
})
