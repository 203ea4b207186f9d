"""Files to units: format readers (text, HWP/HWPX, PDF, DOCX) with size caps, the line markers, the
structure parser, program codes, and the parse stage over whole rounds."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "read_document": "documents", "read_round": "documents", "normalize_text": "documents",
    "SUPPORTED_SUFFIXES": "documents",
    "SizeLimits": "limits",
    "open_zip": "zipped", "ZipPackage": "zipped",
    "classify_line": "markers",
    "StructureParser": "parser", "ParsedDocument": "parser",
    "ProgramRegistry": "programs", "ProgramMapper": "programs", "unknown_codes": "programs",
    "program_names": "programs",
    "Round": "rounds", "read_rounds": "rounds", "parse_rounds": "rounds", "load_units": "rounds",
    "write_units": "rounds",
})
