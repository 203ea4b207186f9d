"""ZIP packages (HWPX, DOCX, REFI-QDA ``.qdpx``) opened and read within the caps of :class:`SizeLimits`.

Every ZIP the tool opens goes through :func:`open_zip`: the declared sizes are checked against the caps
before anything is inflated (:func:`~pipeline.read.limits.check_zip_sizes`), and :meth:`ZipPackage.read`
inflates one member a block at a time, counting what it has unpacked against the member cap and what
the package may still unpack to, so no member is held whole before it is known to fit. A damaged,
encrypted or oddly compressed member is an :class:`InputError` naming the file and the member.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.errors import InputError, one_line
from pipeline.read.limits import FILE_LIMIT_VAR, MEMBER_LIMIT_VAR, SizeLimits, check_zip_sizes, over_limit

# How much of a member is inflated at a time: small enough that a bomb is stopped a block past the cap.
BLOCK = 1024 * 1024
# What zipfile raises for a damaged archive or member: a bad CRC or header (BadZipFile), a broken
# deflate stream (zlib.error), a cut-short file (EOFError, OSError), an unsupported compression method
# (NotImplementedError) or an encrypted member (RuntimeError).
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)


class ZipPackage:
    """An open ZIP package whose members are read within the caps (use :func:`open_zip`)."""

    def __init__(self, name: str, archive: zipfile.ZipFile, limits: SizeLimits) -> None:
        self.name = name
        self.archive = archive
        self.limits = limits
        self.budget = limits.file  # what the members read so far leave of the file cap

    def names(self) -> list[str]:
        """The members' names, in the order the archive lists them."""
        return self.archive.namelist()

    def read(self, member: str) -> bytes:
        """The bytes of ``member``, inflated a block at a time.

        Raises :class:`InputError` naming the file when the member is missing or damaged, or unpacks past
        the member cap or what the file cap leaves (inflating stops there).
        """
        cap, var = (self.limits.member, MEMBER_LIMIT_VAR) if self.limits.member <= self.budget \
            else (self.budget, FILE_LIMIT_VAR)
        what = f"압축 파일 항목 {member}" if var == MEMBER_LIMIT_VAR else "압축 파일 전체"
        blocks: list[bytes] = []
        size = 0
        try:
            with self.archive.open(member) as stream:
                while block := stream.read(BLOCK):
                    size += len(block)
                    if size > cap:
                        raise over_limit(self.name, what, size, cap, var)
                    blocks.append(block)
        except KeyError as exc:
            raise InputError(self.name, f"압축 파일에 {member} 항목이 없습니다") from exc
        except _DAMAGE as exc:
            raise InputError(self.name, f"압축 파일 항목 {member}이(가) 손상되었습니다: {one_line(exc)}") from exc
        self.budget -= size
        return b"".join(blocks)


@contextmanager
def open_zip(name: str, source: bytes | str | os.PathLike, limits: SizeLimits, not_a_zip: str) -> Iterator[ZipPackage]:
    """Open a ZIP package (its bytes, or a path) and check its declared sizes against ``limits``.

    ``not_a_zip`` is the reason given when ``source`` is not a readable ZIP archive (it names the
    format the user expects, e.g. "corrupt or truncated HWPX file"). Raises :class:`InputError`
    naming ``name`` for that, and for a package declaring more than the caps allow.
    """
    try:
        if not isinstance(source, bytes) and Path(source).stat().st_size > limits.file:
            size = Path(source).stat().st_size
            raise over_limit(name, "파일", size, limits.file, FILE_LIMIT_VAR)
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except InputError:
        raise
    except _DAMAGE as exc:
        raise InputError(name, f"{not_a_zip} ({one_line(exc)})") from exc
    with archive:
        check_zip_sizes(name, archive, limits)
        yield ZipPackage(name, archive, limits)
