"""Plain-text files: decoding (BOM, UTF-8, UTF-16, CP949/EUC-KR) and the checks that refuse binary data.

Line lengths are checked on the raw bytes before any decoding, so a huge file with no line breaks is
refused in milliseconds; a decoded text that is mostly control or unassigned characters is binary.
"""

from __future__ import annotations

import unicodedata

import charset_normalizer

from pipeline.core.errors import InputError
from pipeline.read.limits import MAX_LINE_LENGTH, MB, RawLine, split_lines

# Share of non-whitespace characters that may be control, unassigned or private-use
# before a decoded text counts as binary garbage rather than a document.
_MAX_BAD_CHAR_SHARE = 0.05


def read_txt(name: str, data: bytes) -> tuple[list[RawLine], str]:
    """In: the bytes of a text file. Out: its lines and the encoding that decoded them."""
    _check_line_lengths(name, data)
    text, encoding = _decode_text(name, data)
    return split_lines(text), encoding


def _check_line_lengths(name: str, data: bytes) -> None:
    """Reject text whose longest line exceeds :data:`MAX_LINE_LENGTH`, looking only at bytes."""
    if len(data) <= MAX_LINE_LENGTH:
        return
    if b"\n" not in data and b"\r" not in data:
        raise InputError(name, f"{len(data) / MB:.1f} MB의 텍스트에 줄바꿈이 없습니다: 문서가 아닙니다")
    longest = max(map(len, data.splitlines()))
    if longest > MAX_LINE_LENGTH:
        raise InputError(name, f"줄바꿈 없는 {longest / MB:.1f} MB짜리 줄이 있습니다: 문서가 아닙니다")


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "utf-8"),
    (b"\xff\xfe", "utf-16-le", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be", "utf-16-be"),
)


def _decode_text(name: str, data: bytes) -> tuple[str, str]:
    """Decode text bytes: BOM first, then strict UTF-8, then detection among Korean encodings.

    In: non-empty bytes. Out: the text without BOM and the encoding's name.
    Raises :class:`InputError` for binary data or bytes no supported encoding explains.
    """
    for bom, encoding, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                reason = f"바이트 순서 표시(BOM) 뒤의 {codec.upper()} 텍스트가 올바르지 않습니다 ({exc.reason})"
                raise InputError(name, reason) from exc
            _check_plausible(name, text, encoding)
            return text, encoding

    if b"\x00" in data:
        # NUL bytes are either UTF-16 without a BOM (every ASCII character carries one) or binary.
        candidates = ["utf_16_le", "utf_16_be"]
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Korean text that is not UTF-8 is, in practice, CP949 (a superset of EUC-KR).
            candidates = ["cp949", "euc_kr"]
        else:
            _check_plausible(name, text, "utf-8")
            return text, "utf-8"

    best = charset_normalizer.from_bytes(data, cp_isolation=candidates).best()
    if best is None:
        if b"\x00" in data:
            raise InputError(name, "텍스트 파일이 아니라 이진 데이터입니다 (NUL 바이트)")
        raise InputError(name, "해독할 수 없는 바이트: UTF-8, UTF-16, CP949/EUC-KR 텍스트가 아닙니다")
    encoding = best.encoding.replace("_", "-")
    try:
        text = data.decode(best.encoding)
    except UnicodeDecodeError as exc:
        raise InputError(name, f"{exc.start}번째 바이트를 해독할 수 없습니다 "
                               f"(가장 그럴듯한 인코딩: {encoding})") from exc
    # A guessed encoding that needed replacement characters guessed wrong.
    if "\ufffd" in text:
        raise InputError(name, f"해독할 수 없는 바이트: {encoding}(으)로 읽으면 대체 문자가 나옵니다")
    _check_plausible(name, text, encoding)
    return text, encoding


def _check_plausible(name: str, text: str, encoding: str) -> None:
    """Raise :class:`InputError` when decoded text is mostly control or unassigned characters.

    Binary data is binary throughout, so four 32K-character windows (start, two middles, end)
    decide; checking every character of a large round would cost more than parsing it.
    """
    window = 32_768
    if len(text) > 4 * window:
        step = len(text) // 3
        text = "".join(text[k * step : k * step + window] for k in range(3)) + text[-window:]
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return
    bad = sum(1 for ch in visible if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    if bad > _MAX_BAD_CHAR_SHARE * len(visible):
        raise InputError(
            name, f"이진 데이터입니다: {encoding}(으)로 읽으면 글자의 {bad / len(visible):.0%}가 제어 문자입니다"
        )
