"""Errors a researcher sees: one line naming the file and the reason."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: the message names the file and says what is wrong with it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
