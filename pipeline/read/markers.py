"""Markers and line kinds: the characters that give an advisory document its structure, and
:func:`classify_line`, which tells what one line is.

The kinds, their markers and the order in which they are tested are listed in :mod:`pipeline.read.parser`'s
docstring, with what the parser makes of each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BOXES = "□■▢◆◇▣☐"
REC_MARKS = "ㅇ○◦●◯❍"
DASHES = "-–—·∙•▪▫‣"
NOTE_MARKS = "※*"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
DINGBAT_CIRCLED = "➀➁➂➃➄➅➆➇➈➉"
AGENDA_DINGBATS = "❶❷❸❹❺❻❼❽❾❿➊➋➌➍➎➏➐➑➒➓"
ROMAN = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"
BRACKETS = {"[": "]", "【": "】", "<": ">", "〈": "〉", "《": "》"}

#: Characters that act as structural markers somewhere; the content-preservation property is
#: stated over the input with these removed (they also occur inside content, e.g. ``서울-지역``).
MARKER_CHARS = frozenset(
    BOXES + REC_MARKS + DASHES + NOTE_MARKS + AGENDA_DINGBATS + ROMAN + CIRCLED + DINGBAT_CIRCLED
    + "".join(k + v for k, v in BRACKETS.items())
)

#: Characters that mask a member's name (``○○○``, ``김OO``): such names never identify a person.
MASKS = "○◯△▲☆★◇OＯxX＊*"
# ``위원``, ``위원장``, optionally ``의견``/``자문의견``, an affiliation in brackets, a colon.
_TRAILER = r"(?:장)?(?:\s*(?:자문\s*)?(?:의견|내용))?(?:\s*[(（][^()（）]{0,40}[)）])?\s*[:：]?"
_MEMBER_BOX = re.compile(rf"^[{BOXES}]\s*(?P<name>\S.{{0,30}}?)\s*위원{_TRAILER}$")
# Not ``홍길동 자문위원`` bare: ``외부 자문위원(2명)`` in a list reads the same.
_MEMBER_BARE = re.compile(rf"^(?P<name>[{MASKS}]{{2,5}}|[가-힣][가-힣{MASKS}]{{1,4}})\s*위원{_TRAILER}$")
# Members kept anonymous by a letter or a number: ``A 위원``, ``위원 B``, ``위원1 의견``.
_ANON = r"(?:[A-Za-zＡ-Ｚ]|\d{1,2})"
_MEMBER_ANON = re.compile(rf"^(?:{_ANON}\s*(?:자문\s*)?위원|(?:자문\s*)?위원\s*{_ANON}){_TRAILER}$")
# A member header written after a list marker, as in a list of the members' opinions: ``○ 김OO 위원 의견``,
# ``1. 홍길동 위원``, ``가. A 위원``, ``- 위원 2``. The whole rest of the line must be the header.
_LIST_MARKS = re.escape(REC_MARKS + DASHES) + "▶▷►"
_LISTED = re.compile(rf"^(?P<mark>[{_LIST_MARKS}]|\d{{1,2}}\s*[.)．]|[가-하]\s*[.)])\s*(?P<rest>\S.*)$")


_BOX = re.compile(rf"^[{BOXES}]\s*(?P<text>.*)$")
_AGENDA = (
    re.compile(rf"^(?P<mark>[{AGENDA_DINGBATS}])\s*(?P<text>.*)$"),
    re.compile(rf"^(?P<mark>[{ROMAN}])\s*[.．]?\s+(?P<text>\S.*)$"),
    re.compile(r"^(?P<mark>X?(?:IX|IV|V?I{1,3}|V|X))\s*[.．]\s*(?P<text>\S.*)$"),
    # ``1. 제목`` and ``1. 2027년 사업 계획`` (a heading that opens with a year), but not a dotted date such as
    # ``3. 5.`` or ``12. 2024. 3.``, nor a decimal (``2. 3.5% 증가``)
    re.compile(r"^(?P<mark>\d{1,2})\s*[.．]\s+(?P<text>(?!\d{1,4}\s*[.．])\S.*)$"),
)
_CODE_ONLY = re.compile(r"^\s*\d{1,2}\s*-\s*\d{1,2}\s*-\s*\d{1,2}\s*$")
# Not a run of marks: ``○○구 …``, ``ㅇㅇ시 …`` is a masked name opening the line (a title), not an item.
_REC = re.compile(rf"^(?P<mark>[{REC_MARKS}](?![{REC_MARKS}])|o(?=\s+[가-힣(\[‘“]))\s*(?P<text>.*)$")
_SUB = re.compile(
    rf"^(?P<mark>[{DASHES}{NOTE_MARKS}]|[{CIRCLED}{DINGBAT_CIRCLED}]|[가-하][.)]|\(?\d{{1,2}}\))\s*(?P<text>.*)$"
)


# Who raised a unit, in brackets at its end: ``… 필요함 (박○○ 위원)``, ``… (A 위원 의견)``.
_MEMBER_TAG = re.compile(r"[(（](?P<label>[^()（）]{1,20}?위원(?:\s*의견)?)\s*[)）]\s*$")


def trailing_member(text: str) -> str | None:
    """The member header that closes ``text`` in brackets (``… (박○○ 위원)`` -> ``박○○ 위원``), or None."""
    m = _MEMBER_TAG.search(text)
    label = m.group("label").strip() if m else ""
    return label if label and _member(label) else None


def _member(s: str) -> bool:
    """Whether ``s`` (without a box) is a member header: a name or mask, or a letter or number, and ``위원``."""
    return bool(_MEMBER_BARE.match(s) or _MEMBER_ANON.match(s))


@dataclass(frozen=True, slots=True)
class Classified:
    """A line with its role: ``kind`` is one of member, agenda, question, question_open, box, rec,
    sub, note, text, blank; ``mark`` the marker that decided it; ``text`` the content after it."""

    kind: str
    text: str
    mark: str = ""


def agenda_family(mark: str) -> str:
    """The numbering an agenda marker belongs to: ``dingbat`` (❶), ``roman`` (Ⅰ., IV.) or ``arabic`` (1.).

    An outline nests one numbering in another (``Ⅰ.`` sections over ``1.`` items); a change of family
    between two agenda headings is how the parser tells a section from its items.
    """
    if mark in AGENDA_DINGBATS:
        return "dingbat"
    return "arabic" if mark.isdigit() else "roman"


def list_family(mark: str) -> str:
    """Which list a sub-point marker belongs to: ``dash``, ``note`` (``※ *``), ``circled`` (``①``, ``➀``),
    ``hangul`` (``가.``, ``가)``) or ``number`` (``1)``, ``(1)``)."""
    if mark in DASHES:
        return "dash"
    if mark in NOTE_MARKS:
        return "note"
    if mark in CIRCLED or mark in DINGBAT_CIRCLED:
        return "circled"
    return "hangul" if mark[:1] in _HANGUL_ENUM else "number"


_HANGUL_ENUM = frozenset(chr(c) for c in range(ord("가"), ord("하") + 1))


def classify_line(raw: str) -> Classified:
    """Tell what one line is (:mod:`pipeline.read.parser`'s docstring lists the order of tests)."""
    s = raw.strip()
    if not s:
        return Classified("blank", "")
    if _MEMBER_BOX.match(s) or _member(s) or (s[0] in BOXES and _member(s[1:].strip())):
        return Classified("member", s.lstrip(BOXES).strip(), s[0] if s[0] in BOXES else "")
    m = _LISTED.match(s)
    if m and _member(m.group("rest")):
        return Classified("member", m.group("rest"), m.group("mark"))
    for pattern in _AGENDA:
        m = pattern.match(s)
        if m:
            return Classified("agenda", m.group("text").strip(), m.group("mark"))
    if s[0] in BRACKETS:
        close = BRACKETS[s[0]]
        inner = s[1:-1] if s.endswith(close) else s[1:]
        if not _CODE_ONLY.match(inner) and inner.strip() and close not in inner:
            kind = "question" if s.endswith(close) else "question_open"
            if kind == "question" and (_member(inner.strip()) or _MEMBER_BOX.match("□" + inner.strip())):
                return Classified("member", inner.strip(), s[0])
            return Classified(kind, inner.strip(), s[0])
    m = _BOX.match(s)
    if m:
        return Classified("box", m.group("text").strip(), s[0])
    m = _REC.match(s)
    if m:
        return Classified("rec", m.group("text").strip(), m.group("mark"))
    m = _SUB.match(s)
    if m:
        mark = m.group("mark")
        kind = "note" if mark in NOTE_MARKS else "sub"
        return Classified(kind, m.group("text").strip(), mark)
    return Classified("text", s)
