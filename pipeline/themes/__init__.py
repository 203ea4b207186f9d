"""Features to themes: the codebook, its scorer, discovery (BERTopic, UMAP, k-means), new-theme
candidates in codebook mode and their promotion into the codebook, keywords and labels, ``ThemeModel``
that composes them, its saved form, and researcher corrections."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Codebook": "codebook", "CodebookTheme": "codebook", "load_codebook": "codebook",
    "CodebookScorer": "scorer", "make_assignments": "scorer",
    "ThemeDiscoverer": "discovery",
    "LexicalSpace": "clustering", "AutoKMeans": "clustering", "NMFView": "clustering", "nmf_agreement": "clustering",
    "ThemeLabeler": "keywords", "topic_keywords": "keywords",
    "make_bertopic": "bertopic_adapter", "class_tfidf_keywords": "bertopic_adapter",
    "import_bertopic": "bertopic_adapter",
    "ThemeModel": "model", "UnitTerms": "model",
    "save_model": "store", "load_model": "store", "read_model_info": "store", "MODEL_FOLDER": "store",
    "Correction": "corrections", "CodingRecord": "corrections", "settle": "corrections",
    "load_record": "correctionfiles",
    "apply_corrections": "corrections", "researcher_theme_id": "corrections",
    "ExampleMemory": "memory", "ResearcherThemes": "researcher",
    "NewThemeFinder": "openset", "novelty": "openset", "is_new_theme": "openset", "new_theme_id": "openset",
    "leave_one_out": "openset",
    "candidate_theme": "promote", "promote": "promote", "theme_yaml": "promote", "codebook_yaml": "promote",
})
