"""A small writer of Compound File Binary files (MS-CFB version 3), the container of HWP 5.0.

Tests need HWP files with streams that no writer we can install makes (a ``ViewText`` storage, sections of
any size): olefile replaces a stream only with one of the same length, hwp-converter-ai writes its fixed set
of streams, and the one PyPI writer that rebuilds a container (cfbwrite) is AGPL and only replaces streams.
So this writes a whole container from a mapping of stream paths to bytes, as [MS-CFB] lays it out: 512-byte
sectors, streams under 4,096 bytes in the mini stream (64-byte sectors), the FAT listed in the header's
DIFAT (up to 109 FAT sectors, ~7 MB of streams: plenty for a fixture), each storage's children in a binary
search tree ordered as the specification orders names (shorter first, then by upper-cased code units).
Every node is black: readers follow the tree, they do not rebalance it.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
STORAGE, STREAM, ROOT = 1, 2, 5


def _name_key(name: str) -> tuple[int, str]:
    """The order [MS-CFB] 2.6.4 gives sibling names: by length, then by upper-cased characters."""
    return len(name), name.upper()


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.children: dict[str, _Entry] = {}
        self.left = self.right = self.child = NO_STREAM
        self.start, self.index = END_OF_CHAIN, 0


def _tree(entries: list[_Entry]) -> int:
    """Link ``entries`` (sorted) as a balanced binary search tree; the index of its root."""
    if not entries:
        return NO_STREAM
    middle = len(entries) // 2
    root = entries[middle]
    root.left, root.right = _tree(entries[:middle]), _tree(entries[middle + 1 :])
    return root.index


def _chain(fat: list[int], first: int, count: int) -> None:
    for k in range(count):
        fat[first + k] = first + k + 1 if k < count - 1 else END_OF_CHAIN


def _sectors(size: int, unit: int) -> int:
    return -(-size // unit)


def compound_file(streams: Mapping[tuple[str, ...], bytes]) -> bytes:
    """In: stream paths (``("ViewText", "Section0")``) and their bytes. Out: the compound file's bytes."""
    root = _Entry("Root Entry", ROOT)
    for path, data in streams.items():
        node = root
        for storage in path[:-1]:
            node = node.children.setdefault(storage, _Entry(storage, STORAGE))
        node.children[path[-1]] = _Entry(path[-1], STREAM, bytes(data))
    order: list[_Entry] = []

    def number(node: _Entry) -> None:
        node.index = len(order)
        order.append(node)
        for child in sorted(node.children.values(), key=lambda e: _name_key(e.name)):
            number(child)

    number(root)
    for node in order:
        node.child = _tree(sorted(node.children.values(), key=lambda e: _name_key(e.name)))
    streams_ = [e for e in order if e.kind == STREAM and e.data]
    small = [e for e in streams_ if len(e.data) < MINI_CUTOFF]
    large = [e for e in streams_ if len(e.data) >= MINI_CUTOFF]

    mini = bytearray()
    minifat: list[int] = []
    for entry in small:
        entry.start = len(minifat)
        count = _sectors(len(entry.data), MINI_SECTOR)
        minifat.extend([FREE] * count)
        _chain(minifat, entry.start, count)
        mini += entry.data.ljust(count * MINI_SECTOR, b"\0")
    n_minifat = _sectors(len(minifat) * 4, SECTOR)
    n_dir = _sectors(len(order) * 128, SECTOR)
    n_mini = _sectors(len(mini), SECTOR)
    n_data = n_minifat + n_dir + n_mini + sum(_sectors(len(e.data), SECTOR) for e in large)
    n_fat = 1
    while n_fat * SECTOR // 4 < n_fat + n_data:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("streams too large for a container without DIFAT sectors")

    fat = [FREE] * (n_fat * SECTOR // 4)
    fat[:n_fat] = [FAT_SECTOR] * n_fat
    cursor = n_fat

    def place(count: int) -> int:
        nonlocal cursor
        first = cursor
        _chain(fat, first, count)
        cursor += count
        return first if count else END_OF_CHAIN

    first_minifat, first_dir = place(n_minifat), place(n_dir)
    root.start, root.data = place(n_mini), bytes(mini)
    body = bytearray()
    body += struct.pack(f"<{len(minifat)}I", *minifat).ljust(n_minifat * SECTOR, b"\xff")
    body += b"\0" * (n_dir * SECTOR)  # the directory, written once every stream has its first sector
    body += bytes(mini).ljust(n_mini * SECTOR, b"\0")
    for entry in large:
        count = _sectors(len(entry.data), SECTOR)
        entry.start = place(count)
        body += entry.data.ljust(count * SECTOR, b"\0")
    directory = b"".join(_directory_entry(entry) for entry in order)
    dir_at = n_minifat * SECTOR
    body[dir_at : dir_at + len(directory)] = directory
    # Unused directory slots are empty entries whose siblings and child say "none".
    for slot in range(len(order), n_dir * SECTOR // 128):
        body[dir_at + slot * 128 : dir_at + (slot + 1) * 128] = _empty_entry()

    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I", MAGIC, b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6, 0, n_fat, first_dir, 0,
        MINI_CUTOFF, first_minifat if n_minifat else END_OF_CHAIN, n_minifat, END_OF_CHAIN, 0, *difat)
    return header + struct.pack(f"<{len(fat)}I", *fat) + bytes(body)


def _directory_entry(entry: _Entry) -> bytes:
    name = (entry.name + "\0").encode("utf-16-le")
    size = len(entry.data)
    start = entry.start if size else END_OF_CHAIN
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry.kind, 1, entry.left, entry.right, entry.child,
                       b"\0" * 16, 0, 0, 0, start, size)


def _empty_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NO_STREAM, NO_STREAM, NO_STREAM, b"\0" * 16, 0, 0, 0,
                       0, 0)


def write_compound_file(streams: Mapping[tuple[str, ...], bytes], path: Path) -> Path:
    """Write :func:`compound_file` of ``streams`` to ``path``; returns the path."""
    path.write_bytes(compound_file(streams))
    return path
