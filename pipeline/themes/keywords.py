"""Theme keywords and names (the theme cards themselves are computed by :mod:`pipeline.runfolder.cards`).

- :class:`ThemeLabeler` computes BERTopic's class-based TF-IDF over Kiwi terms on the final
  assignment (the theme model already decided who belongs where; ``reduce_frequent_words`` so
  words common to every theme sink), without importing BERTopic. It yields each theme's top
  keywords and names discovered themes from them. The BERTopic of the same fit ("manual" mode),
  fitted only when asked for, is what a saved model keeps (safetensors serialization).
- :func:`label_from_keywords` names a discovered theme the way the codebook does: up to three
  distinct keywords joined by ``·`` (판로·유통·상생상회), skipping a keyword that repeats part of
  one already chosen (판로 / 판로지원).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from pipeline.core.records import ThemeInfo
from pipeline.features.tokenizer import tokenize_views
from pipeline.themes.bertopic_adapter import class_tfidf_keywords, make_bertopic, term_document

FALLBACK_LABEL = "기타"
#: The label of a new-theme candidate in a codebook run, around the keywords' name.
CANDIDATE_LABEL = "새 주제 후보: {}"


def label_from_keywords(keywords: Sequence[str], taken: set[str] | frozenset[str] = frozenset(),
                        n_words: int = 3) -> str:
    """A theme name from its keywords: up to ``n_words`` non-overlapping keywords joined by ``·``.

    A keyword contained in (or containing) one already chosen is skipped, so a compound and its
    head do not both appear. When the name is in ``taken``, one more keyword is added, or a number
    when none is left. With no keywords the name is ``기타 N``.
    """
    chosen: list[str] = []
    spare: list[str] = []
    for word in keywords:
        if any(word in c or c in word for c in chosen):
            continue
        (chosen if len(chosen) < n_words else spare).append(word)
    label = "·".join(chosen) if chosen else FALLBACK_LABEL
    for word in spare:
        if label not in taken:
            break
        label = f"{label}·{word}"
    number = 2
    base = label
    while label in taken:
        label = f"{base} {number}"
        number += 1
    return label


def topic_keywords(topic_model, topic: int) -> tuple[str, ...]:
    """A BERTopic topic's words, best first (its vectorizer is the Kiwi keyword tokenizer, so no stopwords)."""
    return tuple(w for w, score in (topic_model.get_topic(topic) or []) if w and score > 0)


def _raw_representatives(model, documents: Sequence[str], texts: Sequence[str]) -> dict[int, list[str]]:
    """BERTopic's representative term documents of each topic, as the texts of that topic they came from.

    Units with the same terms share a term document, so each is matched to a distinct text of the
    same topic, in document order.
    """
    unused: dict[tuple[int, str], list[str]] = {}
    for topic, document, text in zip(model.topics_, documents, texts, strict=True):
        unused.setdefault((int(topic), document), []).append(text)
    out = {}
    for topic, docs in model.representative_docs_.items():
        out[topic] = [unused[(int(topic), doc)].pop(0) for doc in docs if unused.get((int(topic), doc))]
    return out


class ThemeLabeler:
    """c-TF-IDF keywords per theme, as BERTopic computes them (manual topic modelling on fixed labels).

    Parameters: ``tokenizer`` (Kiwi keyword terms, stopwords removed), ``n_keywords``.
    ``fit(texts, labels, features, encode)``: ``labels`` index themes (``-1``
    unassigned), ``features`` are the vectors BERTopic stores as topic embeddings, ``encode``
    maps new texts to the same space (its embedding backend) and ``terms`` (optional) are the
    texts' keyword terms, already computed. Fitted: ``keywords_`` (theme index -> keywords, best
    first; :func:`pipeline.themes.bertopic_adapter.class_tfidf_keywords`, no BERTopic needed), ``topic_of_``
    (theme index -> BERTopic topic) and ``bertopic_``, the BERTopic itself (None when no unit has a
    theme or a term), fitted on first use: only a saved model keeps it.
    """

    def __init__(self, tokenizer, n_keywords: int = 10) -> None:
        if n_keywords < 1:
            raise ValueError(f"n_keywords must be >= 1, got {n_keywords}")
        self.tokenizer = tokenizer
        self.n_keywords = n_keywords

    def fit(self, texts: Sequence[str], labels: np.ndarray, features: np.ndarray,
            encode: Callable[[list[str]], np.ndarray], terms: Sequence[Sequence[str]] | None = None) -> ThemeLabeler:
        labels = np.asarray(labels, dtype=int)
        if len(labels) != len(texts):
            raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
        self.keywords_: dict[int, tuple[str, ...]] = {}
        self.topic_of_: dict[int, int] = {}
        self._bertopic = None
        self._inputs = None
        self._topic_labels: dict[int, str] = {}
        if not (labels >= 0).any():
            return self
        if terms is None:
            terms = tokenize_views(texts, [self.tokenizer])[0]
        elif len(terms) != len(texts):
            raise ValueError(f"{len(terms)} term lists for {len(texts)} texts")
        if not any(terms[i] for i in np.flatnonzero(labels >= 0)):
            # No themed unit has a single term: nothing for c-TF-IDF to weigh, so no keywords.
            return self
        documents = [term_document(t) for t in terms]
        self.topic_of_, words = class_tfidf_keywords(documents, labels, self.n_keywords)
        self.keywords_ = {theme: words[topic] for theme, topic in sorted(self.topic_of_.items())}
        self._inputs = (list(texts), documents, labels, features, encode)
        return self

    @property
    def bertopic_(self):
        """The fitted BERTopic of the themes (None when there are no keywords), fitted on first use."""
        if self._bertopic is None and self._inputs is not None:
            self._bertopic = self._fit_bertopic(*self._inputs)
            if self._topic_labels:
                self._bertopic.set_topic_labels(self._topic_labels)
        return self._bertopic

    def _fit_bertopic(self, texts: list[str], documents: list[str], labels: np.ndarray, features,
                      encode: Callable[[list[str]], np.ndarray]):
        model = make_bertopic(encode, self.n_keywords)
        model.fit(documents, embeddings=features, y=labels)
        # The fitted model meets raw texts from here on: its vectorizer tokenizes them with Kiwi,
        # and its representative documents are the texts the term documents came from.
        model.vectorizer_model.set_params(analyzer="word", tokenizer=self.tokenizer, token_pattern=None)
        model.representative_docs_ = _raw_representatives(model, documents, texts)
        if model.topic_embeddings_.ndim == 3:
            # BERTopic averages sparse rows into (1, d) matrices; keep one flat vector per topic.
            model.topic_embeddings_ = model.topic_embeddings_.reshape(len(model.topic_embeddings_), -1)
        topic_of = {int(mine): int(theirs) for mine, theirs in zip(labels, model.topics_, strict=True) if mine >= 0}
        if topic_of != self.topic_of_:
            raise RuntimeError("BERTopic numbered the themes' topics otherwise than class_tfidf_keywords "
                               "(another BERTopic release?): update pipeline/themes/bertopic_adapter.py")
        return model

    def name_themes(self, themes: Sequence[ThemeInfo], candidates: frozenset[str] = frozenset()) -> list[ThemeInfo]:
        """Themes with their keywords; discovered themes also get a label made from them, which for the
        new-theme candidates of a codebook run (their ids in ``candidates``) reads
        ``새 주제 후보: <keywords>`` until a researcher names them."""
        named: list[ThemeInfo] = []
        taken = {t.label for t in themes if t.source == "codebook"}
        for k, theme in enumerate(themes):
            keywords = self.keywords_.get(k, ())
            label = theme.label
            if theme.source != "codebook":
                label = label_from_keywords(keywords, taken)
                taken.add(label)
                if theme.theme_id in candidates:
                    label = CANDIDATE_LABEL.format(label)
            named.append(replace(theme, label=label, keywords=keywords))
        # The BERTopic (fitted now or later) shows the themes' names as its topic labels.
        self._topic_labels = {topic: named[theme].label for theme, topic in self.topic_of_.items()}
        if self._bertopic is not None:
            self._bertopic.set_topic_labels(self._topic_labels)
        return named
