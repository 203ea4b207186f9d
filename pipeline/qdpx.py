"""REFI-QDA exchange: a run folder as a coded ``.qdpx`` project, and a recoded project back as corrections.

:func:`export_qdpx` writes a REFI-QDA 1.0 project (a zip of ``project.qde`` and ``Sources/``) that
MAXQDA, NVivo, ATLAS.ti and QualCoder open: every input file of the run is a text source holding
the text the reader decoded from it (so an HWP, HWPX, PDF or DOCX round becomes the same lines the
parser saw), every unit is a ``PlainTextSelection`` of its lines coded with its theme and its
program codes, the codebook is a tree of codes (``주제`` with one code per theme, ``사업 코드`` with
one code per cited program, named with its registry name), and every member is a case holding the
member's selections. Every GUID is a UUID5 of a stable key (rec_id, theme id, program code, input
hash), so exporting two runs of the same input gives the same GUIDs and a researcher's project can
be matched back to the run.

:func:`import_qdpx` reads such a project after a researcher has recoded it and returns one
correction (``rec_id,theme_id,note``) per unit whose theme differs from the run's. A selection is
matched to its unit by GUID, or, when the tool made new GUIDs, by overlap with the unit's lines in
the project's copy of the source text; a code is a theme by GUID, or by its name being a theme's
label or id, so renamed or moved codes still count. Projects from other tools are read too; what
matches no unit is reported in one warning line.

Positions are zero-based character offsets (Unicode code points) into the source text, end
exclusive: ``text[startPosition:endPosition]`` is the selected text.
"""

from __future__ import annotations

import bisect
import io
import json
import logging
import os
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
from lxml import etree

from pipeline.atomic import Target, replacing
from pipeline.corrections import Correction, corrections_csv
from pipeline.errors import InputError
from pipeline.programs import program_code_key
from pipeline.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Document

log = logging.getLogger(__name__)

QDA_NAMESPACE = "urn:QDA-XML:project:1.0"
_Q = f"{{{QDA_NAMESPACE}}}"
#: Namespace of every GUID made here: the same key gives the same GUID on every machine and rerun.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:advisory-themes:refi-qda")
THEMES_BRANCH = "주제"
PROGRAMS_BRANCH = "사업 코드"
UNREGISTERED = "미등록"
ORIGIN = "advisory-themes"
# Fixed zip entry dates: the same run exports to the same bytes.
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)


def make_guid(*key: str) -> str:
    """The GUID of a thing named by ``key`` (e.g. ``("selection", rec_id)``): a UUID5, upper case."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(key))).upper()


def _norm_guid(value: str | None) -> str:
    """GUIDs compare without braces and case: the schema allows ``{…}`` and tools differ in case."""
    return (value or "").strip().strip("{}").upper()


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class SourceText:
    """The text of one input file as a ``.qdpx`` source holds it, with where each line starts.

    ``line_starts[n - 1]`` is the offset of line ``n`` (1-based, the reader's numbering); the
    last entry is ``len(text)``.
    """

    name: str
    text: str
    line_starts: tuple[int, ...]

    @classmethod
    def from_text(cls, name: str, text: str) -> SourceText:
        """In: a file name and its text (any of ``\\n`` / ``\\r\\n`` line ends). Out: the source with line starts."""
        starts = [0]
        position = text.find("\n")
        while position != -1:
            starts.append(position + 1)
            position = text.find("\n", position + 1)
        if starts[-1] != len(text):
            starts.append(len(text))
        return cls(name, text, tuple(starts))

    @classmethod
    def from_document(cls, doc: Document) -> SourceText:
        """In: a read document. Out: its lines joined with ``\\n`` (each line ends with one), named by file name."""
        text = "".join(f"{line.text}\n" for line in doc.lines)
        return cls.from_text(doc.path.replace("\\", "/").rsplit("/", 1)[-1], text)

    @property
    def n_lines(self) -> int:
        return len(self.line_starts) - 1

    def span(self, line_start: int, line_end: int) -> tuple[int, int]:
        """Offsets ``[start, end)`` of lines ``line_start..line_end`` (1-based, inclusive), outer whitespace trimmed.

        Raises ``ValueError`` for lines outside the text.
        """
        if not 1 <= line_start <= line_end <= self.n_lines:
            raise ValueError(f"lines {line_start}-{line_end} are outside {self.name} ({self.n_lines} lines)")
        start, end = self.line_starts[line_start - 1], self.line_starts[line_end]
        chunk = self.text[start:end]
        if not chunk.strip():
            return start, start
        # Selections start at the first visible character: indentation and line ends are layout, not text.
        return start + len(chunk) - len(chunk.lstrip()), start + len(chunk.rstrip())


@dataclass(frozen=True)
class ThemeCode:
    """A theme as a code: its id, the label researchers see and a one-line description."""

    theme_id: str
    label: str
    description: str


@dataclass(frozen=True)
class _RunFolder:
    """What the exchange needs of a run folder: units with their themes, theme summaries, run.json.

    ``units`` and ``themes`` are the rows of recommendations.csv and themes.csv as named tuples of
    strings (column names as attributes).
    """

    path: Path
    units: tuple
    themes: tuple
    info: dict


_UNIT_COLUMNS = ("rec_id", "round", "source", "member", "member_label", "agenda", "question", "theme_id",
                 "theme_source", "program_codes", "unknown_codes", "line_start", "line_end")
_THEME_COLUMNS = ("theme_id", "theme_label", "theme_source", "keywords")


def _read_run(run_dir: str | os.PathLike) -> _RunFolder:
    """Read ``recommendations.csv``, ``themes.csv`` and ``run.json`` of a run folder (every CSV cell as text)."""
    folder = Path(run_dir)
    for name in ("run.json", "recommendations.csv", "themes.csv"):
        if not (folder / name).is_file():
            raise InputError(str(folder), f"not a run folder: no {name}")
    try:
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        recs = pd.read_csv(folder / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        themes = pd.read_csv(folder / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:
        raise InputError(str(folder), f"unreadable run folder: {' '.join(str(exc).split())}") from exc
    missing = [c for c in _UNIT_COLUMNS if c not in recs.columns] or [c for c in _THEME_COLUMNS if c not in themes]
    if missing:
        raise InputError(str(folder), f"run folder lacks the column {missing[0]} (made by an older version?)")
    # Rows as plain tuples once: iterating pandas' Arrow-backed strings costs more than everything else here.
    return _RunFolder(folder, tuple(recs.astype(object).itertuples(index=False)),
                      tuple(themes.astype(object).itertuples(index=False)), info)


def _split(cell: str) -> list[str]:
    return [part for part in cell.split(";") if part]


def _theme_catalogue(run: _RunFolder) -> list[ThemeCode]:
    """The run's themes in themes.csv order, then codebook themes no unit got (so a researcher can recode into them).

    ``미분류`` comes last when some unit has no theme.
    """
    codes = [ThemeCode(r.theme_id, r.theme_label or r.theme_id,
                       f"{r.theme_id} ({r.theme_source}) 키워드: {', '.join(_split(r.keywords))}")
             for r in run.themes]
    known = {c.theme_id for c in codes}
    book = (run.info.get("parameters") or {}).get("codebook") or {}
    if book.get("path"):
        from pipeline.codebook import load_codebook

        try:
            codebook = load_codebook(book["path"])
        except InputError as err:
            log.warning("%s; only the run's own themes become codes", err)
        else:
            if book.get("sha256") and codebook.sha256 != book["sha256"]:
                log.warning("%s: changed since run %s; its current themes are offered as codes", book["path"],
                            run.path)
            codes += [ThemeCode(t.theme_id, t.label, f"{t.theme_id} (codebook) {t.description}")
                      for t in codebook.themes if t.theme_id not in known]
    if any(_run_theme(row) == UNASSIGNED_ID for row in run.units):
        codes.append(ThemeCode(UNASSIGNED_ID, UNASSIGNED_LABEL, f"{UNASSIGNED_ID}: 어느 주제에도 배정되지 않은 권고"))
    return codes


def _run_theme(row) -> str:
    """The theme id a unit has in the run; ``unassigned`` for a unit without one."""
    return row.theme_id if row.theme_id and row.theme_source != UNASSIGNED_ID else UNASSIGNED_ID


# --------------------------------------------------------------------------- export


def load_sources(run: _RunFolder) -> dict[str, SourceText]:
    """Re-read every input file listed in run.json, as the run's reader read it; file name -> source text.

    Raises :class:`InputError` when a file is gone, changed since the run (its SHA-256 differs
    from run.json), or two inputs share a file name (units name their source by file name only).
    """
    from pipeline.readers import read_document

    sources: dict[str, SourceText] = {}
    for entry in run.info.get("inputs") or []:
        path = str(entry.get("path", ""))
        if not Path(path).is_file():
            raise InputError(path, f"input of run {run.path} not found (moved? relative paths are read from "
                                   "the folder the run was made in)")
        doc = read_document(path)
        if doc.sha256 != entry.get("sha256"):
            raise InputError(path, f"changed since run {run.path} was made (its SHA-256 differs from run.json)")
        source = SourceText.from_document(doc)
        if source.name in sources:
            raise InputError(path, f"two inputs of run {run.path} are named {source.name}; "
                                   "units cannot tell them apart")
        sources[source.name] = source
    return sources


def _source_guids(run: _RunFolder) -> dict[str, str]:
    """File name -> source GUID, keyed by the input's hash so a changed file is a different source."""
    return {Path(str(e.get("path", "")).replace("\\", "/")).name: make_guid("source", str(e.get("sha256", "")))
            for e in run.info.get("inputs") or []}


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, _Q + tag, {k: v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _code(parent: etree._Element, guid: str, name: str, description: str, codable: bool = True) -> etree._Element:
    element = _sub(parent, "Code", guid=guid, name=name, isCodable="true" if codable else "false")
    if description:
        _sub(element, "Description", description)
    return element


def _program_codes(run: _RunFolder) -> list[tuple[str, str]]:
    """(code, code name) of every program code a unit cites, registered ones named, others marked 미등록."""
    names = {str(k): str(v) for k, v in (run.info.get("programs") or {}).items()}
    cited = {c for row in run.units for c in (*_split(row.program_codes),
                                                                      *_split(row.unknown_codes))}
    return [(c, f"{c} {names[c]}" if c in names else f"{c} ({UNREGISTERED})")
            for c in sorted(cited, key=program_code_key)]


def build_project(run: _RunFolder, sources: dict[str, SourceText]) -> etree._Element:
    """The ``project.qde`` tree of a run: codes, member cases, one text source per input with coded selections.

    In: the run folder and its inputs' texts (:func:`load_sources`). Out: the ``Project`` element.
    Raises :class:`InputError` when a unit names a source that is not among the inputs or lines
    outside it.
    """
    rounds = sorted({row.round for row in run.units})
    user = make_guid("user", ORIGIN)
    project = etree.Element(_Q + "Project", nsmap={None: QDA_NAMESPACE},
                            name=f"{ORIGIN} {', '.join(rounds)}", origin=ORIGIN, creatingUserGUID=user)
    _sub(_sub(project, "Users"), "User", guid=user, name=ORIGIN)

    codes = _sub(_sub(project, "CodeBook"), "Codes")
    branch = _code(codes, make_guid("branch", "themes"), THEMES_BRANCH, "권고의 주제 (advisory-themes)", codable=False)
    theme_guid = {}
    for theme in _theme_catalogue(run):
        theme_guid[theme.theme_id] = make_guid("theme", theme.theme_id)
        _code(branch, theme_guid[theme.theme_id], theme.label, theme.description)
    program_guid = {}
    programs = _program_codes(run)
    if programs:
        branch = _code(codes, make_guid("branch", "programs"), PROGRAMS_BRANCH, "권고가 언급한 사업 코드",
                       codable=False)
        for code, name in programs:
            program_guid[code] = make_guid("program", code)
            _code(branch, program_guid[code], name, "")

    source_guid = _source_guids(run)
    selections: dict[str, list[tuple[int, int, object]]] = {name: [] for name in sources}
    members: dict[tuple[str, str], list[str]] = {}
    for row in run.units:
        if row.source not in sources:
            raise InputError(str(run.path / "recommendations.csv"),
                             f"unit {row.rec_id} comes from {row.source}, which run.json does not list as an input")
        try:
            start, end = sources[row.source].span(int(row.line_start), int(row.line_end))
        except ValueError as err:
            raise InputError(str(run.path / "recommendations.csv"), f"unit {row.rec_id}: {err}") from err
        selections[row.source].append((start, end, row))
        if row.member:
            members.setdefault((row.round, row.member), []).append(row.rec_id)

    cases = _sub(project, "Cases") if members else None
    labels = {(r.round, r.member): r.member_label for r in run.units if r.member}
    for (round_id, member), rec_ids in sorted(members.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
        case = _sub(cases, "Case", guid=make_guid("case", round_id, member),
                    name=labels[(round_id, member)] or f"위원 {member}")
        _sub(case, "Description", f"{round_id} · 위원 {member}")
        for rec_id in rec_ids:
            _sub(case, "SelectionRef", targetGUID=make_guid("selection", rec_id))

    sources_el = _sub(project, "Sources")
    for name in sources:
        guid = source_guid[name]
        text_source = _sub(sources_el, "TextSource", guid=guid, name=name, plainTextPath=f"internal://{guid}.txt")
        for start, end, row in sorted(selections[name], key=lambda s: (s[0], s[1], s[2].rec_id)):
            selection = _sub(text_source, "PlainTextSelection", guid=make_guid("selection", row.rec_id),
                             name=row.rec_id, startPosition=str(start), endPosition=str(end))
            _sub(selection, "Description", f"{row.rec_id} · {row.agenda} · {row.question}")
            code_guids = [theme_guid[_run_theme(row)]]
            code_guids += [program_guid[c] for c in dict.fromkeys([*_split(row.program_codes),
                                                                    *_split(row.unknown_codes)])]
            for code in code_guids:
                coding = _sub(selection, "Coding", guid=make_guid("coding", row.rec_id, code), creatingUser=user)
                _sub(coding, "CodeRef", targetGUID=code)
    return project


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    """The REFI-QDA 1.0 ``Project.xsd`` shipped with the package."""
    with resources.as_file(resources.files("pipeline") / "schemas" / "Project.xsd") as path:
        return etree.XMLSchema(etree.parse(str(path)))


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through the package's one atomic-replace helper: no half-written file."""
    with replacing([Target(path, "file")]) as (staging,):
        staging.write_bytes(data)


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_qdpx` wrote: the file and how many sources, coded selections, codes and cases."""

    path: Path
    sources: int
    selections: int
    codes: int
    cases: int


def export_qdpx(run_dir: str | os.PathLike, out: str | os.PathLike) -> ExportSummary:
    """Write a run folder as a REFI-QDA 1.0 project (``.qdpx``), atomically.

    In: a run folder (its inputs must still be where run.json says, unchanged) and the output
    path ending in ``.qdpx``. Out: an :class:`ExportSummary`. The project validates against the
    standard's ``Project.xsd``; the same run gives the same bytes. Raises :class:`InputError`
    for a missing or changed input or a bad output name; nothing is written then.
    """
    out = Path(out)
    if out.suffix.lower() != ".qdpx":
        raise InputError(str(out), "a REFI-QDA project file must end in .qdpx")
    run = _read_run(run_dir)
    sources = load_sources(run)
    project = build_project(run, sources)
    # A project the tools would reject is a bug here, not bad input: fail loudly before writing.
    _schema().assertValid(project)
    qde = etree.tostring(project, xml_declaration=True, encoding="utf-8", pretty_print=True)
    guids = _source_guids(run)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [("project.qde", qde)]
        entries += sorted((f"Sources/{guids[name]}.txt", s.text.encode("utf-8")) for name, s in sources.items())
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    _write_atomic(out, buffer.getvalue())
    return ExportSummary(out, len(sources), len(project.findall(f".//{_Q}PlainTextSelection")),
                         len(project.findall(f".//{_Q}Code")), len(project.findall(f".//{_Q}Case")))


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class CodedSelection:
    """A text selection of a project with the GUIDs of the codes applied to it."""

    guid: str
    source_guid: str
    source_name: str
    start: int
    end: int
    code_guids: tuple[str, ...]


@dataclass(frozen=True)
class QdaProject:
    """What import reads of a ``.qdpx``: code names by GUID, text sources' texts, coded text selections."""

    path: str
    codes: dict[str, str]
    texts: dict[str, SourceText]
    selections: tuple[CodedSelection, ...]


def read_qdpx(path: str | os.PathLike) -> QdaProject:
    """Read and validate a ``.qdpx`` file from any REFI-QDA tool.

    In: the file. Out: its codes, source texts (by source GUID, where the project holds the
    text) and text selections. Raises :class:`InputError` naming the file when it is missing, not
    a zip, has no ``project.qde``, or that is not well-formed XML or not valid REFI-QDA 1.0.
    """
    name = str(path)
    if not Path(path).is_file():
        raise InputError(name, "file not found")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(name, "not a REFI-QDA project: not a zip archive") from exc
    with archive:
        members = {m.lower(): m for m in archive.namelist()}
        if "project.qde" not in members:
            raise InputError(name, "not a REFI-QDA project: no project.qde in the archive")
        try:
            qde = archive.read(members["project.qde"])
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputError(name, f"corrupt project.qde in the archive: {exc}") from exc
        # No entity expansion and no network: a project file is untrusted input.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            root = etree.fromstring(qde, parser)
        except etree.XMLSyntaxError as exc:
            raise InputError(name, f"project.qde is not well-formed XML: {' '.join(str(exc).split())}") from exc
        schema = _schema()
        if not schema.validate(root):
            error = schema.error_log.last_error
            raise InputError(name, f"project.qde is not valid REFI-QDA 1.0 (line {error.line}): "
                                   f"{' '.join(error.message.split())}")
        texts = {}
        for source in root.iter(_Q + "TextSource"):
            text = _source_text(name, source, archive, members)
            if text is not None:
                texts[_norm_guid(source.get("guid"))] = SourceText.from_text(source.get("name") or "", text)
    codes = {_norm_guid(c.get("guid")): c.get("name") or "" for c in root.iter(_Q + "Code")}
    selections = []
    for source in root.iter(_Q + "TextSource"):
        for sel in source.iterchildren(_Q + "PlainTextSelection"):
            selections.append(CodedSelection(
                guid=_norm_guid(sel.get("guid")), source_guid=_norm_guid(source.get("guid")),
                source_name=source.get("name") or "", start=int(sel.get("startPosition")),
                end=int(sel.get("endPosition")),
                code_guids=tuple(_norm_guid(ref.get("targetGUID"))
                                 for ref in sel.iterfind(f"{_Q}Coding/{_Q}CodeRef")),
            ))
    return QdaProject(name, codes, texts, tuple(selections))


def _source_text(name: str, source: etree._Element, archive: zipfile.ZipFile, members: dict[str, str]) -> str | None:
    """The plain text of a TextSource: inline ``PlainTextContent`` or its ``internal://`` file; None if absent."""
    inline = source.find(_Q + "PlainTextContent")
    if inline is not None:
        return inline.text or ""
    target = source.get("plainTextPath") or ""
    if not target.startswith("internal://"):
        return None
    member = members.get(f"sources/{target[len('internal://'):]}".lower())
    if member is None:
        return None
    try:
        data = archive.read(member)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(name, f"corrupt source {member} in the archive: {exc}") from exc
    return data.decode("utf-8-sig", errors="replace")


@dataclass(frozen=True)
class ImportResult:
    """Corrections read from a project, and what could not be used.

    ``unmatched`` holds the GUIDs of selections that match no unit of the run, ``ambiguous`` the
    units coded with more than one theme, ``unassigned`` the units recoded to 미분류 (a
    corrections file names a theme, so these are left out); ``matched`` counts the units found.
    """

    corrections: tuple[Correction, ...]
    matched: int
    unmatched: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    unassigned: tuple[str, ...] = ()


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def corrections_from_project(project: QdaProject, run: _RunFolder) -> ImportResult:
    """Compare a project's theme codings with the run's themes: one correction per unit whose theme changed.

    Selections map to units by GUID, else by the largest overlap with a unit's lines in the
    project's copy of the unit's source (matched by GUID or file name, with or without extension).
    Codes map to themes by GUID, else by name equal to a theme's label or id.
    """
    catalogue = _theme_catalogue(run)
    theme_of_code = {make_guid("theme", t.theme_id): t.theme_id for t in catalogue}
    by_name = {}
    for theme in reversed(catalogue):
        by_name[theme.label.strip()] = theme.theme_id
        by_name[theme.theme_id.casefold()] = theme.theme_id
    for guid, code_name in project.codes.items():
        if guid not in theme_of_code:
            found = by_name.get(code_name.strip()) or by_name.get(code_name.strip().casefold())
            if found:
                theme_of_code[guid] = found
    by_guid = {make_guid("selection", r.rec_id): r.rec_id for r in run.units}
    source_guid = _source_guids(run)
    spans = _unit_spans(project, run, source_guid)

    themes: dict[str, set[str]] = {}
    unmatched = []
    for sel in project.selections:
        rec_id = by_guid.get(sel.guid)
        if rec_id is None and sel.source_guid in spans:
            rec_id = spans[sel.source_guid].best_overlap(sel.start, sel.end)
        if rec_id is None:
            unmatched.append(sel.guid)
            continue
        themes.setdefault(rec_id, set()).update(theme_of_code[c] for c in sel.code_guids if c in theme_of_code)

    corrections, ambiguous, unassigned = [], [], []
    file_name = Path(project.path).name
    for row in run.units:
        given = themes.get(row.rec_id)
        old = _run_theme(row)
        if not given or given == {old}:
            continue
        if len(given) > 1:
            ambiguous.append(row.rec_id)
        elif (new := next(iter(given))) == UNASSIGNED_ID:
            unassigned.append(row.rec_id)
        else:
            corrections.append(Correction(row.rec_id, new, f"{file_name}: {old} → {new}"))
    return ImportResult(tuple(corrections), len(themes), tuple(unmatched), tuple(ambiguous), tuple(unassigned))


@dataclass(frozen=True)
class _Spans:
    """The run's units in one source of a project: spans sorted by start, for overlap lookups."""

    starts: tuple[int, ...]
    spans: tuple[tuple[int, int, str], ...]
    longest: int

    def best_overlap(self, start: int, end: int) -> str | None:
        """The rec_id whose span overlaps ``[start, end)`` most; None if none does.

        Only spans starting in ``[start - longest, end)`` can overlap, so this looks at a few
        spans, not the whole round (a tool that renews every GUID sends every selection here).
        """
        best, best_overlap = None, 0
        low = bisect.bisect_left(self.starts, start - self.longest)
        for k in range(low, bisect.bisect_left(self.starts, end)):
            s, e, rec_id = self.spans[k]
            overlap = min(e, end) - max(s, start)
            if overlap > best_overlap:
                best, best_overlap = rec_id, overlap
        return best


def _unit_spans(project: QdaProject, run: _RunFolder, source_guid: dict[str, str]) -> dict[str, _Spans]:
    """Project source GUID -> the run's units' spans in the project's copy of that source.

    A project source is the run's input with the same GUID, or else with the same file name
    (with or without extension: some tools drop it).
    """
    ours = {guid: name for name, guid in source_guid.items()}
    by_source: dict[str, list] = {}
    for row in run.units:
        by_source.setdefault(row.source, []).append(row)
    spans: dict[str, _Spans] = {}
    for guid, text in project.texts.items():
        name = ours.get(guid) or next((n for n in source_guid if text.name in (n, _stem(n))), None)
        found = sorted((*text.span(int(r.line_start), int(r.line_end)), r.rec_id)
                       for r in by_source.get(name, []) if int(r.line_end) <= text.n_lines)
        if found:
            spans[guid] = _Spans(tuple(f[0] for f in found), tuple(found), max(e - s for s, e, _ in found))
    return spans


def _short_list(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" … (+{len(items) - limit})" if len(items) > limit else "")


def import_qdpx(qdpx: str | os.PathLike, run_dir: str | os.PathLike, out: str | os.PathLike) -> ImportResult:
    """Turn the theme codings of a (recoded) ``.qdpx`` into a corrections CSV for the units of a run folder.

    In: the project file, the run folder it was exported from (or a run of the same input), the
    corrections CSV to write. Out: the :class:`ImportResult`; the CSV (``rec_id,theme_id,note``,
    UTF-8 with BOM) is written atomically, header only when nothing changed. Selections that
    match no unit, units with several themes and units recoded to 미분류 each give one warning
    line. Raises :class:`InputError` for a malformed project or run folder; nothing is written then.
    """
    project = read_qdpx(qdpx)
    run = _read_run(run_dir)
    result = corrections_from_project(project, run)
    if result.unmatched:
        log.warning("%s: %d coded selections match no unit of %s (GUIDs %s)", project.path, len(result.unmatched),
                    run.path, _short_list(result.unmatched))
    if result.ambiguous:
        log.warning("%s: %d units carry more than one theme code, left out: %s", project.path,
                    len(result.ambiguous), _short_list(result.ambiguous))
    if result.unassigned:
        log.warning("%s: %d units recoded to %s, left out (a correction names a theme): %s", project.path,
                    len(result.unassigned), UNASSIGNED_LABEL, _short_list(result.unassigned))
    _write_atomic(Path(out), corrections_csv(result.corrections))
    return result
