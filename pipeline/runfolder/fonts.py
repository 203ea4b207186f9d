"""A Korean web font for the HTML report: NanumGothic cut down to the characters one page uses.

A report opened on a machine with no Korean font would show every Hangul syllable as a box, so
the page carries its own font as a ``data:`` URL. NanumGothic (the copy koreanize-matplotlib
ships, SIL Open Font License 1.1) has 20,000 glyphs; fontTools' subsetter keeps only those of
the page's characters, which makes a few dozen kilobytes for a round. NanumGothic has no
halfwidth corner brackets ``｢｣`` (U+FF62/U+FF63), which Korean official documents use around the
names of laws and plans, so they are mapped to its ``「」``, which NanumGothic already draws narrow
(351 of 1000 units), the width a halfwidth bracket has.

The OFL asks that a modified font not carry the original's reserved names, so the subset is
renamed (:data:`FAMILY`); its copyright record is kept and its licence records name the OFL. Same characters give the
same bytes: the font's timestamps are not touched and the subsetter's options are fixed.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterable
from functools import lru_cache

from fontTools import subset
from fontTools.ttLib import TTFont

from pipeline.runfolder.plots import korean_font_path

# fontTools' subsetter reports every table it prunes at INFO; a researcher running `advisory run` needs none of it.
logging.getLogger("fontTools").setLevel(logging.WARNING)

#: Kept whatever the page holds: the subset then does not depend on which Latin letters a page happens to
#: contain (folder names differ between machines), and text typed into the search box renders too.
PRINTABLE_ASCII = frozenset(chr(c) for c in range(0x20, 0x7F))
#: The family name the report's CSS uses for the embedded subset.
FAMILY = "Advisory Report Gothic"
#: Halfwidth corner brackets NanumGothic lacks, and the glyphs of its own that draw them: (halfwidth, source).
HALFWIDTH_BRACKETS: tuple[tuple[str, str], ...] = (("｢", "「"), ("｣", "」"))
# The name record kept is the copyright; the names are replaced by FAMILY. This copy of NanumGothic names no
# licence in its own records (13 and 14 hold the vendor's name and site), so the OFL that NAVER publishes the
# Nanum fonts under is written there, as the licence asks of modified versions.
_KEPT_NAME_IDS = (0,)
_LICENSE = ("NanumGothic (NAVER Corp., formerly NHN) is licensed under the SIL Open Font License, Version 1.1. "
            "This subset, renamed as the licence requires, holds only the characters of one report.")
_LICENSE_URL = "https://openfontlicense.org"


@lru_cache(maxsize=1)
def _source() -> bytes:
    return korean_font_path().read_bytes()


def _options() -> subset.Options:
    options = subset.Options()
    options.name_IDs = list(_KEPT_NAME_IDS)
    options.name_languages = ["*"]
    # The TrueType instructions stay: Chromium on Linux applies them, and with them the subset draws each glyph
    # pixel for pixel like the installed NanumGothic (without them, 1-pixel shifts in some syllables).
    options.hinting = True
    options.layout_features = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    # Visual TrueType's editing sources of the hinting: browsers never read them, and the subsetter cannot cut them.
    options.drop_tables += ["TSI0", "TSI1", "TSI2", "TSI3", "TSI5"]
    return options


def _add_halfwidth_brackets(font: TTFont, chars: set[str]) -> None:
    """Map the halfwidth brackets among ``chars`` to the glyphs of their ``「」`` sources in ``font``."""
    cmap = font.getBestCmap()
    for narrow, source in HALFWIDTH_BRACKETS:
        if narrow in chars and ord(narrow) not in cmap and ord(source) in cmap:
            for table in font["cmap"].tables:
                if table.isUnicode():
                    table.cmap[ord(narrow)] = cmap[ord(source)]


def _rename(font: TTFont) -> None:
    names = font["name"]
    for name_id, value in ((1, FAMILY), (2, "Regular"), (3, f"{FAMILY} subset"), (4, FAMILY),
                           (6, FAMILY.replace(" ", "") + "-Regular"), (13, _LICENSE), (14, _LICENSE_URL)):
        names.setName(value, name_id, 3, 1, 0x409)


def subset_font(chars: Iterable[str]) -> bytes:
    """WOFF bytes of NanumGothic limited to ``chars`` and printable ASCII (``｢｣`` drawn with ``「」``), renamed.

    In: the characters the page shows (any iterable of one-character strings; duplicates and
    characters the font lacks are fine). Out: a WOFF 1.0 font; same characters give the same bytes.
    """
    wanted = {c for c in chars if len(c) == 1} | PRINTABLE_ASCII
    # The brackets' source glyphs must survive the subsetting that comes first.
    wanted |= {wide for narrow, wide in HALFWIDTH_BRACKETS if narrow in wanted}
    # Lazy: only the kept glyphs are decompiled (decompiling all 11k of them cost 1.4 s per report).
    font = TTFont(io.BytesIO(_source()), recalcTimestamp=False)
    subsetter = subset.Subsetter(_options())
    subsetter.populate(unicodes=sorted(ord(c) for c in wanted))
    subsetter.subset(font)
    _add_halfwidth_brackets(font, wanted)
    _rename(font)
    font.flavor = "woff"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def font_face_css(chars: Iterable[str]) -> str:
    """A CSS ``@font-face`` rule for :data:`FAMILY` whose source is :func:`subset_font` as a ``data:`` URL."""
    data = base64.b64encode(subset_font(chars)).decode("ascii")
    return (f"@font-face{{font-family:\"{FAMILY}\";font-style:normal;font-weight:400;font-display:block;"
            f"src:url(data:font/woff;base64,{data}) format(\"woff\")}}")
