"""REFI-QDA exchange, import side: a recoded ``.qdpx`` project back as corrections of a run.

:func:`import_qdpx` reads a project after a researcher has recoded it (in MAXQDA, NVivo, ATLAS.ti,
QualCoder, ...) and returns one correction (``rec_id,theme_id,note``) per unit whose theme differs
from the run's. A selection is matched to its unit by GUID, or, when the tool made new GUIDs, by
overlap with the unit's lines in the project's copy of the source text; a code is a theme by GUID,
or by its name being a theme's label or id, so renamed or moved codes still count. Projects from
other tools are read too; what matches no unit is reported in one warning line. The GUIDs, source
texts, theme codes and schema are :mod:`pipeline.qda.export`'s, shared with the export.
"""

from __future__ import annotations

import bisect
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from pipeline.core.atomic import write_file
from pipeline.core.errors import InputError, one_line
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Unit
from pipeline.qda.export import Q, SourceText, make_guid, run_theme, schema, source_guids, theme_catalogue
from pipeline.read.limits import SizeLimits
from pipeline.read.zipped import ZipPackage, open_zip
from pipeline.runfolder.folder import RunFolder, load_run, refuse_inside
from pipeline.themes.corrections import Correction, corrections_csv

log = logging.getLogger(__name__)


def _norm_guid(value: str | None) -> str:
    """GUIDs compare without braces and case: the schema allows ``{…}`` and tools differ in case."""
    return (value or "").strip().strip("{}").upper()


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
    a zip, unpacks past the caps (:class:`~pipeline.read.limits.SizeLimits`), has no ``project.qde``,
    or that is not well-formed XML, declares a DTD or is not valid REFI-QDA 1.0.
    """
    name = str(path)
    if not Path(path).is_file():
        raise InputError(name, "file not found")
    with open_zip(name, path, SizeLimits.from_env(), "not a REFI-QDA project: not a zip archive") as archive:
        members = {m.lower(): m for m in archive.names()}
        if "project.qde" not in members:
            raise InputError(name, "not a REFI-QDA project: no project.qde in the archive")
        root = _project_root(name, archive.read(members["project.qde"]))
        texts = {}
        for source in root.iter(Q + "TextSource"):
            text = _source_text(source, archive, members)
            if text is not None:
                texts[_norm_guid(source.get("guid"))] = SourceText.from_text(source.get("name") or "", text)
    codes = {_norm_guid(c.get("guid")): c.get("name") or "" for c in root.iter(Q + "Code")}
    selections = []
    for source in root.iter(Q + "TextSource"):
        for sel in source.iterchildren(Q + "PlainTextSelection"):
            selections.append(CodedSelection(
                guid=_norm_guid(sel.get("guid")), source_guid=_norm_guid(source.get("guid")),
                source_name=source.get("name") or "", start=int(sel.get("startPosition")),
                end=int(sel.get("endPosition")),
                code_guids=tuple(_norm_guid(ref.get("targetGUID"))
                                 for ref in sel.iterfind(f"{Q}Coding/{Q}CodeRef")),
            ))
    return QdaProject(name, codes, texts, tuple(selections))


# About eight elements a unit (its selection, codings and case reference): room for 125,000 units, far more
# than a round holds. lxml spends 140 to 700 bytes on an element, so this also bounds the tree to well under 1 GB.
MAX_ELEMENTS = 1_000_000


def _project_root(name: str, qde: bytes) -> etree._Element:
    """``project.qde`` parsed and checked against the REFI-QDA 1.0 schema; InputError naming the file otherwise.

    A project file is untrusted input: no DTD is loaded, no entity expanded, nothing fetched, and a
    project that declares a DTD at all is refused (REFI-QDA projects have none; its entity references
    would reach the schema check unexpanded, which lxml cannot validate).
    """
    # Parsed incrementally so that elements are counted as the tree grows: a few KB of "<a/>" inflate
    # to millions of them, and lxml spends about 140 bytes on each.
    events = etree.iterparse(io.BytesIO(qde), events=("start",), resolve_entities=False, no_network=True,
                             huge_tree=False, load_dtd=False)
    try:
        for count, _ in enumerate(events, start=1):
            if count > MAX_ELEMENTS:
                raise InputError(name, f"project.qde holds more than {MAX_ELEMENTS:,} XML elements: "
                                       "not a project of one round")
    except etree.XMLSyntaxError as exc:
        raise InputError(name, f"project.qde is not well-formed XML: {one_line(exc)}") from exc
    root = events.root
    if root.getroottree().docinfo.doctype:
        raise InputError(name, "project.qde declares a DTD (<!DOCTYPE …>), which REFI-QDA projects do not use")
    checker = schema()
    try:
        valid = checker.validate(root)
    except etree.XMLSchemaValidateError as exc:
        raise InputError(name, f"project.qde cannot be checked against REFI-QDA 1.0: {one_line(exc)}") from exc
    if not valid:
        error = checker.error_log.last_error
        raise InputError(name, f"project.qde is not valid REFI-QDA 1.0 (line {error.line}): "
                               f"{' '.join(error.message.split())}")
    return root


def _source_text(source: etree._Element, archive: ZipPackage, members: dict[str, str]) -> str | None:
    """The plain text of a TextSource: inline ``PlainTextContent`` or its ``internal://`` file; None if absent."""
    inline = source.find(Q + "PlainTextContent")
    if inline is not None:
        return inline.text or ""
    target = source.get("plainTextPath") or ""
    if not target.startswith("internal://"):
        return None
    member = members.get(f"sources/{target[len('internal://'):]}".lower())
    if member is None:
        return None
    return archive.read(member).decode("utf-8-sig", errors="replace")


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


def corrections_from_project(project: QdaProject, run: RunFolder) -> ImportResult:
    """Compare a project's theme codings with the run's themes: one correction per unit whose theme changed.

    Selections map to units by GUID, else by the largest overlap with a unit's lines in the
    project's copy of the unit's source (matched by GUID or file name, with or without extension).
    Codes map to themes by GUID, else by name equal to a theme's label or id.
    """
    catalogue = theme_catalogue(run)
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
    by_guid = {make_guid("selection", u.rec_id): u.rec_id for u in run.units}
    source_guid = source_guids(run)
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
    for a in run.assignments:
        given = themes.get(a.rec_id)
        old = run_theme(a)
        if not given or given == {old}:
            continue
        if len(given) > 1:
            ambiguous.append(a.rec_id)
        elif (new := next(iter(given))) == UNASSIGNED_ID:
            unassigned.append(a.rec_id)
        else:
            corrections.append(Correction(a.rec_id, new, f"{file_name}: {old} → {new}"))
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


def _unit_spans(project: QdaProject, run: RunFolder, source_guid: dict[str, str]) -> dict[str, _Spans]:
    """Project source GUID -> the run's units' spans in the project's copy of that source.

    A project source is the run's input with the same GUID, or else with the same file name
    (with or without extension: some tools drop it).
    """
    ours = {guid: name for name, guid in source_guid.items()}
    by_source: dict[str, list[Unit]] = {}
    for unit in run.units:
        by_source.setdefault(unit.source, []).append(unit)
    spans: dict[str, _Spans] = {}
    for guid, text in project.texts.items():
        name = ours.get(guid) or next((n for n in source_guid if text.name in (n, _stem(n))), None)
        found = sorted((*text.span(u.line_start, u.line_end), u.rec_id)
                       for u in by_source.get(name, []) if u.line_end <= text.n_lines)
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
    refuse_inside(out, run_dir)
    if Path(out).resolve() == Path(qdpx).resolve():
        raise InputError(str(out), "--out is the project being imported; write the corrections to another file")
    project = read_qdpx(qdpx)
    run = load_run(run_dir)
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
    write_file(out, corrections_csv(result.corrections))
    return result
