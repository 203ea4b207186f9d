"""What every format reader shares: the caps on what a file may unpack to, and raw lines.

:class:`SizeLimits` holds the caps on decompressed size (set through environment variables) and
:func:`over_limit` the one-line error for a file past them; :func:`check_zip_sizes` applies them to a
ZIP package (HWPX, DOCX) before anything is inflated. A reader returns :data:`RawLine` values, the
paragraph-level text it extracted, which :func:`pipeline.read.documents.read_document` numbers.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass

from pipeline.core.errors import InputError, one_line  # noqa: F401  (one_line: the readers' import)

# A "line" longer than this is not prose but a dump (minified data, a binary blob with a
# .txt suffix). Text files are checked on the raw bytes, before any decoding or encoding
# detection, so a huge file with no line breaks is rejected in milliseconds; other formats
# are checked on the characters of the extracted paragraphs.
MAX_LINE_LENGTH = 1024 * 1024
MB = 1024 * 1024

#: Caps on what a file may unpack to, in MB (MiB): one archive member or HWP section, and the
#: whole file (all members read, or a text file's bytes). A 3 MB DOCX can hold parts that
#: inflate to gigabytes; past a cap the reader stops with an InputError before inflating more.
#: A researcher with a genuinely larger document raises them through these environment variables.
MAX_MEMBER_MB = 200
MAX_FILE_MB = 500
MEMBER_LIMIT_VAR = "ADVISORY_MAX_MEMBER_MB"
FILE_LIMIT_VAR = "ADVISORY_MAX_FILE_MB"


@dataclass(frozen=True)
class SizeLimits:
    """Caps in bytes on decompressed size: per archive member / HWP section and per file."""

    member: int = MAX_MEMBER_MB * MB
    file: int = MAX_FILE_MB * MB

    @classmethod
    def from_env(cls) -> SizeLimits:
        """The caps set by ``ADVISORY_MAX_MEMBER_MB`` / ``ADVISORY_MAX_FILE_MB``, else the defaults.

        Raises :class:`InputError` naming the variable when it is not a positive number.
        """
        member, file = MAX_MEMBER_MB, MAX_FILE_MB
        values = []
        for var, default in ((MEMBER_LIMIT_VAR, member), (FILE_LIMIT_VAR, file)):
            raw = os.environ.get(var, "").strip()
            try:
                value = float(raw) if raw else float(default)
            except ValueError:
                value = -1.0
            if not value > 0 or value == float("inf"):
                raise InputError(var, f"양수인 메가바이트 수여야 합니다 (받은 값: {raw!r})")
            values.append(int(value * MB))
        return cls(member=values[0], file=values[1])


def over_limit(name: str, what: str, size: int, limit: int, var: str) -> InputError:
    """The one-line error for ``what`` unpacking to ``size`` bytes past ``limit``."""
    return InputError(
        name,
        f"{what}의 압축을 풀면 {size / MB:,.1f} MB 이상으로 한도 {limit / MB:,.0f} MB를 넘습니다: "
        f"문서가 아니라 압축 폭탄입니다 (한도를 올리려면 {var}를 설정하세요)",
    )


# Paragraph-level text the reader has extracted, before numbering.
RawLine = tuple[str, int | None]


def split_lines(text: str, page: int | None = None) -> list[RawLine]:
    """In: text with any newline convention. Out: its lines (blank ones kept), newlines removed."""
    parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # A final newline ends the last line; it does not start another one.
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return [(part, page) for part in parts]


def paragraph_lines(paragraph: str) -> list[RawLine]:
    """In: a paragraph with line breaks. Out: its lines; a trailing break keeps its empty line."""
    return [(part, None) for part in paragraph.split("\n")]


def check_zip_sizes(name: str, archive: zipfile.ZipFile, limits: SizeLimits) -> None:
    """Refuse an archive whose members declare more than the caps, before inflating any of them.

    The declared sizes can be trusted as an upper bound: zipfile stops inflating a member at
    its declared size (and then fails its CRC check), so a member that lies gets no further.
    """
    total = 0
    for info in archive.infolist():
        if info.file_size > limits.member:
            raise over_limit(name, f"압축 파일 항목 {info.filename}", info.file_size, limits.member, MEMBER_LIMIT_VAR)
        total += info.file_size
        if total > limits.file:
            raise over_limit(name, "압축 파일 전체", total, limits.file, FILE_LIMIT_VAR)
