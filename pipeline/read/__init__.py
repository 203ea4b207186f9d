"""Files to units: format readers (text, HWP/HWPX, PDF, DOCX; the format read from the content) with size caps,
the line markers, the structure parser with the lines no unit took, program codes, and the parse stage over
whole rounds."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "read_document": "documents", "read_round": "documents", "normalize_text": "documents",
    "SUPPORTED_SUFFIXES": "documents", "content_format": "documents",
    "decrypt_view_text": "distribution",
    "LineLedger": "placement", "REASON_LABELS": "placement", "Outline": "placement", "split_opening": "placement",
    "SizeLimits": "limits",
    "open_zip": "zipped", "ZipPackage": "zipped",
    "classify_line": "markers", "agenda_family": "markers",
    "StructureParser": "parser", "ParsedDocument": "parser", "ParseState": "parsestate", "id_key": "parsestate",
    "ProgramRegistry": "programs", "ProgramMapper": "programs", "unknown_codes": "programs",
    "program_names": "programs",
    "Round": "rounds", "read_rounds": "rounds", "parse_rounds": "rounds", "load_units": "rounds",
    "parse_with_unplaced": "rounds", "unplaced_line_count": "rounds", "warn_unplaced": "rounds",
})
