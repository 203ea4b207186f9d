"""Hard-wrapped lines joined back into the text they were, and the test that tells prose from a title.

Word processors and PDF exports break a paragraph into lines; :class:`Joined` puts them back together with
the separator :func:`glue` chooses. :func:`is_prose` is how the parser tells a sentence or a paragraph (content)
from a title, a document number or a table-of-contents entry (not content).
"""

from __future__ import annotations

import re

#: Text with at least this many Hangul syllables reads as prose, whatever it ends with.
PROSE_MIN_HANGUL = 25
# A Korean sentence ends in a verb or noun ending, usually with a full stop: ``…한다.``, ``…필요함``.
# Not ``개요`` (an outline's ``1. 회의 개요``), a noun.
_SENTENCE_END = re.compile(r"(?:다|(?<!개)요|음|함|임|됨|것|까)\s*[.?!]?[\s\"'”’)]*$")


def is_prose(text: str) -> bool:
    """Whether ``text`` reads as content rather than a title: it holds :data:`PROSE_MIN_HANGUL` Hangul
    syllables or more, or it ends like a Korean sentence."""
    return sum(1 for ch in text if is_hangul(ch)) >= PROSE_MIN_HANGUL or bool(_SENTENCE_END.search(text))


def glue(prev_raw: str, nxt: str) -> str:
    """Separator for joining a hard-wrapped line to the next one.

    A trailing space before the wrap means a word break. Without one, a wrap between two Hangul
    syllables is a break inside a word (HWP wraps Korean mid-word: ``게스트`` / ``하우스``).
    """
    if not prev_raw or prev_raw[-1].isspace():
        return " "
    if is_hangul(prev_raw[-1]) and nxt and is_hangul(nxt[0]):
        return ""
    return " "


def is_hangul(ch: str) -> bool:
    return "가" <= ch <= "힣"


class Joined:
    """Text of hard-wrapped lines, kept as pieces and joined only when read.

    Rebuilding the whole string at every wrapped line made a unit of n lines cost O(n²) (a
    10M-line paragraph ran past 300 s); appending pieces keeps it O(n). ``last_raw`` is the
    last line as read, which decides the glue to the next one (see ``glue``).
    """

    __slots__ = ("_pieces", "_text", "last_raw")

    def __init__(self, text: str, last_raw: str) -> None:
        self._pieces = [text] if text else []
        self._text: str | None = text
        self.last_raw = last_raw

    def new_paragraph(self) -> None:
        """The next text starts a paragraph of its own: it is joined with a space, never glued to a word."""
        self.last_raw = ""

    def add(self, text: str, raw: str) -> None:
        """Append a non-empty wrapped line (``text`` stripped, ``raw`` as read)."""
        if self._pieces:
            self._pieces.append(glue(self.last_raw, text))
        self._pieces.append(text)
        self._text = None
        self.last_raw = raw

    def __str__(self) -> str:
        if self._text is None:
            self._text = "".join(self._pieces)
            self._pieces = [self._text] if self._text else []
        return self._text
