"""Korean tokenizer for theme keywords: kiwipiepy nouns, a domain dictionary, compounds, stopwords.

``KiwiTokenizer`` turns one recommendation text into the list of terms that theme keywords are
drawn from. It is a plain callable, so ``TfidfVectorizer(tokenizer=tok, lowercase=False,
token_pattern=None)`` and BERTopic's ``CountVectorizer`` take it as it is, and it pickles (the Kiwi
instance is rebuilt lazily after unpickling or copying).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiwipiepy import Kiwi

from pipeline.core.errors import InputError
from pipeline.core.paths import DICTIONARY_DIR
from pipeline.features.termcache import TermCache, Token, analysis_id

DEFAULT_USER_DICT = DICTIONARY_DIR / "user_dict.tsv"
DEFAULT_STOPWORDS = DICTIONARY_DIR / "stopwords.txt"
# Common and proper nouns, Latin words (ESG, KTX, MOU) and Hanja. Roots (XR: 다양, 충분, 원활) are
# left out: in policy prose they are almost all adjectives that carry no theme.
DEFAULT_POS: tuple[str, ...] = ("NNG", "NNP", "SL", "SH")
# Texts analysed (and stored in the term cache) at a time: enough for Kiwi's worker threads to stay
# busy, few enough that the tokens of one chunk are all that is held.
CACHE_CHUNK = 1024


@dataclass(frozen=True)
class DictEntry:
    """One user-dictionary line: Kiwi keeps ``word`` whole and the tokenizer reports ``canonical``."""

    word: str
    tag: str
    score: float
    canonical: str
    line: int


def read_user_dict(path: str | Path) -> list[DictEntry]:
    """Read a user dictionary in kiwipiepy's format into entries.

    Lines are ``word<TAB>TAG[<TAB>score]`` or, for a spelling variant,
    ``variant<TAB>canonical/TAG[<TAB>score]`` (kiwipiepy's pre-analysed form, one morpheme only);
    blank lines and lines starting with ``#`` are skipped. Raises ``InputError`` naming the file and
    line for a missing file or a malformed line.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as err:
        raise InputError(str(path), f"사용자 사전을 읽을 수 없습니다 ({err.strerror or err})") from err
    entries = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split("\t")]
        if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
            raise InputError(str(path), f"{number}행: '단어<TAB>품사<TAB>점수' 형식이어야 합니다 (받은 줄: {raw!r})")
        word, analysis = fields[0], fields[1]
        try:
            score = float(fields[2]) if len(fields) == 3 else 0.0
        except ValueError as err:
            raise InputError(str(path), f"{number}행: 점수 {fields[2]!r}이(가) 숫자가 아닙니다") from err
        if "/" in analysis:
            if " + " in analysis:
                raise InputError(str(path), f"{number}행: 형태소 하나로 된 분석만 지원합니다")
            canonical, tag = analysis.rsplit("/", 1)
        else:
            canonical, tag = word, analysis
        entries.append(DictEntry(" ".join(word.split()), tag, score, " ".join(canonical.split()), number))
    return entries


def read_stopwords(path: str | Path) -> frozenset[str]:
    """Read a stopword list: one word a line, ``#`` starts a comment. Raises ``InputError`` if unreadable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputError(str(path), f"불용어 목록을 읽을 수 없습니다 ({err.strerror or err})") from err
    words = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(word for word in words if word)


class KiwiTokenizer:
    """Noun and compound-noun terms of Korean text, for keyword extraction.

    Each text goes through Kiwi with the user dictionary loaded; tokens whose tag is in ``pos`` are
    kept, and every run of such tokens written without a space between them (사업+성과 in
    ``사업성과로``) also yields the joined compound (``사업성과``), because Korean policy terms are
    compounds that Kiwi splits and the compound is the readable keyword. Single parts shorter than
    ``min_len`` are dropped (1-character nouns are mostly noise) unless they are dictionary words;
    they still take part in compounds (기여+도 → 기여도). Stopwords are removed last: a part or a
    compound that is a stopword goes, and so does a compound whose parts are all stopwords
    (추진+사업), while 판로+지원 → 판로, 판로지원 stays.

    Parameters: ``user_dict`` and ``stopwords`` are files (``None`` for none; defaults are the
    bundled ``corpus/dictionaries`` files), ``pos`` the Kiwi tags to keep, ``workers`` the Kiwi
    threads for ``tokenize_batch`` (``None``: one per CPU; ``0``: no threads, texts one by one),
    ``cache`` a :class:`pipeline.features.termcache.TermCache` that ``tokenize_batch`` and
    :func:`tokenize_views` read Kiwi's analyses from and store new ones in (``None``: no cache); a
    tokenizer builds its ``Kiwi`` only when some text is missing from the cache.
    """

    def __init__(
        self,
        user_dict: str | Path | None = DEFAULT_USER_DICT,
        stopwords: str | Path | None = DEFAULT_STOPWORDS,
        pos: tuple[str, ...] = DEFAULT_POS,
        min_len: int = 2,
        workers: int | None = None,
        cache: TermCache | None = None,
    ) -> None:
        if workers is not None and workers < 0:
            raise ValueError(f"workers must be None or >= 0, got {workers}")
        self.user_dict = user_dict
        self.stopwords = stopwords
        self.pos = tuple(pos)
        self.min_len = min_len
        self.workers = workers
        self.cache = cache
        self.entries_: tuple[DictEntry, ...] = tuple(read_user_dict(user_dict)) if user_dict else ()
        self.stopwords_: frozenset[str] = read_stopwords(stopwords) if stopwords else frozenset()
        self._canonical = {e.word: e.canonical for e in self.entries_ if e.word != e.canonical}
        self._dictionary_words = frozenset(e.canonical for e in self.entries_)
        self._keep_tags = frozenset(self.pos)
        self._kiwi: Kiwi | None = None

    def __repr__(self) -> str:
        return (
            f"KiwiTokenizer(user_dict={self.user_dict!r}, stopwords={self.stopwords!r}, "
            f"pos={self.pos!r}, min_len={self.min_len!r}, workers={self.workers!r})"
        )

    def __getstate__(self) -> dict:
        # The Kiwi instance wraps native memory and cannot be pickled or copied; it is rebuilt on use.
        state = self.__dict__.copy()
        state["_kiwi"] = None
        return state

    def __call__(self, text: str) -> list[str]:
        """Terms of one text, in reading order (a compound follows its parts).

        Single texts (scikit-learn's vectorizers call this per document) bypass the cache: a lookup
        and a committed write per text would cost more than Kiwi's analysis of it.
        """
        return self._terms(self._analyse([text])[0])

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """Terms of each text, identical to calling the tokenizer on each, using Kiwi's worker threads."""
        return [self._terms(tokens) for tokens in self.analyses(texts)]

    def analyses(self, texts: Sequence[str]) -> Iterator[list[Token]]:
        """Kiwi's tokens ``(form, tag, start, len)`` of each text, in order, ``CACHE_CHUNK`` texts at a
        time: from the cache where it has them, the rest analysed and stored (without a cache, all
        analysed), so only one chunk's tokens are held at once."""
        texts = list(texts)
        analysis = analysis_id([(e.word, e.tag, e.score) for e in self._kiwi_order()]) if self.cache is not None else ""
        for start in range(0, len(texts), CACHE_CHUNK):
            chunk = texts[start : start + CACHE_CHUNK]
            if self.cache is None:
                yield from self._analyse(chunk)
                continue
            keys = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in chunk]
            first: dict[str, int] = {}
            for index, key in enumerate(keys):
                first.setdefault(key, index)
            rows = self.cache.get(analysis, list(first))
            missing = [key for key in first if key not in rows]
            if missing:
                fresh = self._analyse([chunk[first[key]] for key in missing])
                self.cache.put(analysis, missing, fresh)
                rows.update(zip(missing, fresh, strict=True))
            yield from (rows[key] for key in keys)

    def _analyse(self, texts: list[str]) -> list[list[Token]]:
        # Tuples, not Kiwi's Token objects: they are what the cache stores, and _terms reads them faster.
        kiwi = self._get_kiwi()
        # Kiwi's single-thread mode cannot take a list; one call per text gives the same result.
        analysed = (kiwi.tokenize(text) for text in texts) if self.workers == 0 else kiwi.tokenize(texts)
        return [[(t.form, t.tag, t.start, t.len) for t in tokens] for tokens in analysed]

    def shares_analysis_with(self, other: object) -> bool:
        """Whether ``other`` is a KiwiTokenizer that Kiwi would analyse text for exactly as for this one.

        Only the user dictionary changes Kiwi's analysis; tags, ``min_len`` and stopwords only
        filter its tokens. Such tokenizers can share one analysis (:func:`tokenize_views`).
        """
        # Exact type: a subclass may tokenize its own way, so it never shares an analysis.
        return type(self) is KiwiTokenizer and type(other) is KiwiTokenizer and self.entries_ == other.entries_

    def _get_kiwi(self) -> Kiwi:
        if self._kiwi is None:
            workers = (os.cpu_count() or 1) if self.workers is None else self.workers
            with warnings.catch_warnings():
                # kiwipiepy warns that num_workers=0 changed meaning in 0.21; the new meaning is wanted.
                warnings.simplefilter("ignore", DeprecationWarning)
                kiwi = Kiwi(num_workers=workers)
            for entry in self._kiwi_order():
                try:
                    kiwi.add_user_word(entry.word, entry.tag, entry.score)
                except ValueError as err:
                    raise InputError(str(self.user_dict), f"{entry.line}행: {err}") from err
            self._kiwi = kiwi
        return self._kiwi

    def _kiwi_order(self) -> list[DictEntry]:
        # A spaced entry (농부의 시장) also matches the unspaced spelling, but only when it is added
        # before an unspaced entry with the same letters, so spaced entries go first.
        return sorted(self.entries_, key=lambda e: " " not in e.word)

    def _terms(self, tokens: list[Token]) -> list[str]:
        # The hot loop: one tuple unpacking per token, plain list work for the kept ones.
        keep_tags = self._keep_tags
        canonical = self._canonical
        terms: list[str] = []
        run: list[str] = []
        run_end = -1
        for form, tag, start, length in tokens:
            if tag in keep_tags:
                form = canonical.get(form, form)
                if start != run_end and run:
                    self._flush(run, terms)
                    run = []
                run.append(form)
                run_end = start + length
            elif run:
                self._flush(run, terms)
                run = []
        if run:
            self._flush(run, terms)
        return terms

    def _flush(self, run: list[str], terms: list[str]) -> None:
        stop = self.stopwords_
        for part in run:
            if part not in stop and (len(part) >= self.min_len or part in self._dictionary_words):
                terms.append(part)
        if len(run) > 1:
            compound = "".join(run)
            if compound not in stop and any(part not in stop for part in run):
                terms.append(compound)


def tokenize_views(texts: Sequence[str], tokenizers: Sequence) -> list[list[list[str]]]:
    """Terms of each text under each tokenizer: ``result[i][j]`` is ``tokenizers[i](texts[j])``.

    Tokenizers that differ only in what they keep (stopwords, tags, ``min_len``) share one Kiwi
    analysis: Kiwi's morphological analysis is nearly all of the cost, so two views of the same
    texts cost about one (the keyword and clustering terms of the theme model are such a pair).
    Other tokenizers (subclasses and custom ones included) tokenize on their own, in a batch where
    they offer ``tokenize_batch``.
    """
    texts = list(texts)
    results: list[list[list[str]] | None] = [None] * len(tokenizers)
    for i, lead in enumerate(tokenizers):
        if results[i] is not None:
            continue
        if type(lead) is not KiwiTokenizer:
            batch = getattr(lead, "tokenize_batch", None)
            results[i] = batch(texts) if batch else [lead(text) for text in texts]
            continue
        group = [j for j in range(i, len(tokenizers))
                 if results[j] is None and lead.shares_analysis_with(tokenizers[j])]
        views: list[list[list[str]]] = [[] for _ in group]
        for tokens in lead.analyses(texts):
            for view, j in zip(views, group, strict=True):
                view.append(tokenizers[j]._terms(tokens))
        for view, j in zip(views, group, strict=True):
            results[j] = view
    return results
