"""REFI-QDA exchange with MAXQDA, NVivo, ATLAS.ti and QualCoder: ``export_qdpx`` writes a run as a
``.qdpx`` project, ``import_qdpx`` reads a recoded one back as corrections."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "export_qdpx": "export", "build_project": "export",
    "import_qdpx": "importer", "read_qdpx": "importer",
})
