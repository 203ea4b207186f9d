"""The archive of rounds: one DuckDB file (``db``: schema, checks, connections, transactions), one round's rows
(``store``), adding and recoding rounds (``rounds``), the trend tables (``trendtables``) and the trends folder
(``trends``) with its report (``report``)."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "open_archive": "db", "open_if_any": "db", "read_meta": "db",
    "transaction": "db",
    "add_round": "rounds", "add_run_folder": "rounds", "recode_round": "rounds", "model_hash": "rounds",
    "StoredRound": "store", "ModelRef": "store", "store_round": "store", "remove_round": "store",
    "list_rounds": "store", "stored_units": "store", "check_round_name": "store", "export_tables": "store",
    "TrendTables": "trendtables", "trend_tables": "trendtables", "write_trends": "trends",
    "render_trends_report": "report",
})
