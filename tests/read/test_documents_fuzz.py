"""Property: arbitrary bytes in any supported container give units or one clear line, never a traceback.

Each example is one file: raw arbitrary bytes under a supported suffix, the seed fixture of that
format with bytes flipped, cut or inserted, or (for the archives and HWP) the seed with its text
part replaced by arbitrary bytes. Memory stays bounded because the readers cap what any of these
may unpack to (bench/safety/bombs.py measures the bombs themselves).
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.errors import InputError
from pipeline.read.rounds import load_units

FORMATS = ("txt", "docx", "hwpx", "hwp", "pdf")
# The member that holds each archive's text.
TEXT_PART = {"docx": "word/document.xml", "hwpx": "Contents/section0.xml"}

edits = st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(["flip", "cut", "insert"]), st.binary(min_size=1, max_size=64)),
    min_size=1,
    max_size=6,
)


def _mutate(data: bytes, changes: list[tuple[float, str, bytes]]) -> bytes:
    """Apply edits at relative positions: flip (xor), cut (drop as many bytes) or insert bytes."""
    out = bytearray(data)
    for where, kind, payload in changes:
        at = int(where * len(out))
        if kind == "flip":
            for k, byte in enumerate(payload[: len(out) - at]):
                out[at + k] ^= byte or 1
        elif kind == "cut":
            del out[at : at + len(payload)]
        else:
            out[at:at] = payload
    return bytes(out)


def _replace_text_part(fmt: str, seed: Path, target: Path, payload: bytes) -> None:
    """Copy the seed with its text (archive member or HWP section stream) replaced by ``payload``."""
    if fmt == "hwp":
        shutil.copy(seed, target)
        with olefile.OleFileIO(str(target), write_mode=True) as ole:
            size = ole.get_size("BodyText/Section0")
            ole.write_stream("BodyText/Section0", payload[:size].ljust(size, b"\0"))
        return
    buffer = io.BytesIO()
    with zipfile.ZipFile(seed) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, payload if info.filename == TEXT_PART[fmt] else source.read(info))
    target.write_bytes(buffer.getvalue())


@st.composite
def damaged_files(draw: st.DrawFn) -> tuple[str, str, object]:
    fmt = draw(st.sampled_from(FORMATS))
    modes = ["raw", "mutated"] + (["part"] if fmt in ("docx", "hwpx", "hwp") else [])
    mode = draw(st.sampled_from(modes))
    if mode == "raw":
        return fmt, mode, draw(st.binary(max_size=2048) | st.text(max_size=400).map(str.encode))
    if mode == "mutated":
        return fmt, mode, draw(edits)
    xml = st.text(max_size=300).map(lambda t: f'<?xml version="1.0"?><r xmlns:hp="x"><hp:p>{t}</hp:p></r>'.encode())
    return fmt, mode, draw(st.binary(max_size=2048) | xml)


@pytest.fixture(scope="module")
def seeds(seed_fixtures: dict[str, Path]) -> dict[str, Path]:
    return {fmt: seed_fixtures.get(f"seed.{fmt}") for fmt in FORMATS}


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=damaged_files())
def test_any_bytes_give_units_or_one_line_error(seeds: dict[str, Path], case: tuple[str, str, object]) -> None:
    fmt, mode, payload = case
    seed = seeds[fmt]
    if seed is None and mode != "raw":
        return  # no HWP writer installed: only raw bytes for .hwp
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"round.{fmt}"
        if mode == "raw":
            path.write_bytes(payload)  # type: ignore[arg-type]
        elif mode == "mutated":
            path.write_bytes(_mutate(seed.read_bytes(), payload))  # type: ignore[arg-type]
        else:
            _replace_text_part(fmt, seed, path, payload)  # type: ignore[arg-type]
        try:
            units = load_units([path])
        except InputError as error:
            message = str(error)
            assert "\n" not in message and "\r" not in message
            assert message.startswith(f"{path}: ") and len(message) < 400
        else:
            assert units and all(u.text or u.lead for u in units)
