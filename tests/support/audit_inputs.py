"""Hostile and faulty inputs of the audits (tests/test_audit_cases.py), each written by a small function.

Every writer makes its file under a given folder from the shared, valid material (a run folder, its
``.qdpx`` export, a saved model, an archive) and returns the path. They stream what they inflate, so a
bomb that unpacks to hundreds of MB costs no such buffer here.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import duckdb

from tests.support.bombs import copy_zip, stream_member


def qdpx_with_member(source: Path, path: Path, member: str, head: bytes, filler: bytes, mb: int,
                     tail: bytes = b"") -> Path:
    """A copy of the project ``source`` whose ``member`` (``SOURCE``: its text source) is ``head`` + ``mb`` MB
    of ``filler`` + ``tail``."""
    with zipfile.ZipFile(source) as old:
        if member == "SOURCE":
            member = next(n for n in old.namelist() if n.startswith("Sources/"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        copy_zip(source, new, skip=frozenset({member}))
        stream_member(new, member, head, filler, mb, tail)
    return path


def project_xml(qdpx: Path) -> str:
    with zipfile.ZipFile(qdpx) as archive:
        return archive.read("project.qde").decode("utf-8")


def rezip(source: Path, path: Path, replace: dict[str, bytes]) -> Path:
    """A copy of the zip ``source`` with some members' bytes replaced, as a QDA tool saves a recoded project."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        copy_zip(source, new, replace)
    return path


def with_entity(qdpx: Path, path: Path) -> Path:
    """The project with an internal DTD whose entity is referenced in a code's description."""
    xml = re.sub(r"^<\?xml[^>]*\?>\s*", "", project_xml(qdpx))
    xml = xml.replace("<Description>", "<Description>&note;", 1)
    declared = '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE Project [<!ENTITY note "memo">]>\n' + xml
    return rezip(qdpx, path, {"project.qde": declared.encode("utf-8")})


def recoded(qdpx: Path, path: Path, *, shift_source: str = "", renew_guids: bool = False) -> Path:
    """The project with its first coded selection recoded to another theme's code.

    ``shift_source``: text put before the source's first line (the selections' positions move with
    it, as a QDA tool moves them when the researcher edits the source); ``renew_guids``: every
    selection gets a new GUID, as some tools give them on import.
    """
    xml = project_xml(qdpx)
    theme_codes = re.findall(r'<Code guid="([^"]+)" name="[^"]+" isCodable="true">\s*<Description>[^<]*'
                             r'\((?:codebook|discovered)\)', xml)
    first = re.search(r'<PlainTextSelection [^>]*>.*?<CodeRef targetGUID="([^"]+)"', xml, re.S)
    current = first.group(1)
    other = next(code for code in theme_codes if code != current)
    xml = xml[:first.start(1)] + other + xml[first.end(1):]
    replace = {}
    if shift_source:
        with zipfile.ZipFile(qdpx) as archive:
            member = next(n for n in archive.namelist() if n.startswith("Sources/"))
            text = archive.read(member).decode("utf-8")
        replace[member] = (shift_source + text).encode("utf-8")

        def moved(match: re.Match[str]) -> str:
            return f'{match.group(1)}="{int(match.group(2)) + len(shift_source)}"'

        xml = re.sub(r'(startPosition|endPosition)="(\d+)"', moved, xml)
    if renew_guids:
        xml = re.sub(r'(<PlainTextSelection guid=")[^"]+"', lambda m: f'{m.group(1)}{str(uuid.uuid4()).upper()}"',
                     xml)
    replace["project.qde"] = xml.encode("utf-8")
    return rezip(qdpx, path, replace)


def nested_hwpx(seed_hwpx: Path, path: Path, depth: int) -> Path:
    """A copy of an HWPX whose first section nests ``depth`` elements inside one paragraph."""
    with zipfile.ZipFile(seed_hwpx) as archive:
        section = archive.read("Contents/section0.xml").decode("utf-8")
    inner = "<hp:run>" * depth + "<hp:t>깊은 문단</hp:t>" + "</hp:run>" * depth
    section = section.replace("<hp:p ", f"<hp:p><hp:run/>{inner}</hp:p><hp:p ", 1)
    return rezip(seed_hwpx, path, {"Contents/section0.xml": section.encode("utf-8")})


def nested_docx(seed_docx: Path, path: Path, depth: int) -> Path:
    """A copy of a DOCX whose body starts with ``depth`` tables, each in the last one's cell."""
    with zipfile.ZipFile(seed_docx) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    nested = "<w:tbl><w:tr><w:tc>" * depth + "<w:p><w:r><w:t>깊은 표</w:t></w:r></w:p>" + \
        "</w:tc></w:tr></w:tbl>" * depth
    body = re.sub(r"(<w:body[^>]*>)", lambda m: m.group(1) + nested, body, count=1)
    return rezip(seed_docx, path, {"word/document.xml": body.encode("utf-8")})


class _Mkdir:
    """Unpickling it makes a folder: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def model_with(model: Path, path: Path, change: str, marker: Path) -> Path:
    """A copy of a saved model whose ``bertopic/`` was tampered with (``change`` says how)."""
    shutil.copytree(model, path)
    folder = path / "bertopic"
    if change == "pickle-not-safetensors":
        # BERTopic falls back to torch.load of topic_embeddings.bin when the safetensors are missing.
        (folder / "topic_embeddings.safetensors").unlink()
        (folder / "topic_embeddings.bin").write_bytes(pickle.dumps(_Mkdir(marker)))
    elif change == "pickle-folder":
        shutil.rmtree(folder)
        folder.write_bytes(pickle.dumps(_Mkdir(marker)))
    elif change == "hub-model":
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config["embedding_model"] = "sentence-transformers/all-MiniLM-L6-v2"
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    else:
        raise ValueError(change)
    return path


def damaged_archive(archive: Path, path: Path, offset: int) -> Path:
    """A copy of ``archive`` with 4 KB of noise at ``offset`` (0: the header; 8192: a checksummed block)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(archive, path)
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(os.urandom(4096))
    return path


def sqlite_file(path: Path) -> Path:
    import sqlite3

    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE rounds (round_name TEXT)")
    return path


def killed_first_add(path: Path) -> Path:
    """What a first ``archive add`` killed by SIGKILL inside its transaction leaves: a DuckDB file, no tables."""
    script = ("import os, signal, sys, duckdb\n"
              "con = duckdb.connect(sys.argv[1])\n"
              "con.execute('BEGIN TRANSACTION')\n"
              "con.execute('CREATE TABLE meta(key VARCHAR, value VARCHAR)')\n"
              "con.execute(\"INSERT INTO meta VALUES ('schema_version', '2')\")\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done
    return path


def edited_archive(archive: Path, path: Path, *statements: str) -> Path:
    """A copy of ``archive`` with SQL run on it (a hand edit, or names no add would write)."""
    shutil.copyfile(archive, path)
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return path
