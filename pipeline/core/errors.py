"""Errors a researcher sees: one line naming the file and the reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class InputError(Exception):
    """Bad input: the message names the file and says what is wrong with it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def one_line(exc: BaseException, limit: int = 200) -> str:
    """In: an exception from a third-party library. Out: its message on one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def reading(name: str, what: str) -> Iterator[None]:
    """Around the parsing of one input ``name`` (``what`` it should be, e.g. "an HWPX file") by code that a
    hostile file can make fail in ways nobody listed: a third-party parser, a recursive walk.

    Any exception but :class:`InputError` and ``MemoryError`` becomes one :class:`InputError` naming the
    input, so it is one line and exit status 2, and ``--skip-bad`` skips the file.
    """
    try:
        yield
    except (InputError, MemoryError):
        raise
    except RecursionError as exc:
        raise InputError(name, f"너무 깊게 중첩되어 {what}(으)로 읽을 수 없습니다") from exc
    except Exception as exc:
        raise InputError(name, f"{what}(으)로 읽을 수 없습니다 ({type(exc).__name__}: {one_line(exc)})") from exc
