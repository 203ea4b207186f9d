"""REFI-QDA exchange, import side: a recoded ``.qdpx`` project back as the coding record of a run.

:func:`import_qdpx` reads a project after a researcher has coded it (in MAXQDA, NVivo, ATLAS.ti,
QualCoder, ...) and writes every unit's theme as the project has it: a full record (the run folder's
``corrections.csv`` columns, ``source`` = ``qdpx``), not a list of changes; the changes against the run
are printed. A selection is matched to its unit by GUID, or, when the tool made new GUIDs, by position in
the project's copy of the source, used only where the text there is the unit's
(:mod:`pipeline.qda.locate`), else by its own text. A code is a theme by GUID or by its name being a
theme's label or id, so renamed or moved codes keep their meaning; a code created in the tool is a new
researcher theme when it sits under the ``주제`` branch (or in a code set of that name), or is the only code
left on a unit whose theme code was removed. A unit coded with two themes keeps the first and the second
is reported. The GUIDs, source texts, theme codes and schema are :mod:`pipeline.qda.export`'s.

How tools write projects, as far as this reads them: ATLAS.ti counts a Windows line end as one
character in positions while its source files keep both (so its copies are read with ``\\n`` line
ends); NVivo counts both, and writes cases as codes with the same GUID (those codings are case
membership, not themes); MAXQDA renews GUIDs and may leave selections without codings (annotations).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from pipeline.core.atomic import refuse_inside, write_file
from pipeline.core.errors import InputError, one_line
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL
from pipeline.qda.export import (
    PROGRAMS_BRANCH,
    REVIEW_CODE,
    THEMES_BRANCH,
    Q,
    SourceText,
    make_guid,
    run_theme,
    schema,
    source_guids,
    theme_catalogue,
)
from pipeline.qda.locate import UnitSpans, locate_units
from pipeline.read.limits import SizeLimits
from pipeline.read.zipped import ZipPackage, open_zip
from pipeline.runfolder.folder import RunFolder, load_run
from pipeline.runfolder.schema import corrections_csv
from pipeline.themes.corrections import Correction, researcher_theme_id

log = logging.getLogger(__name__)


def _norm_guid(value: str | None) -> str:
    """GUIDs compare without braces and case: the schema allows ``{…}`` and tools differ in case."""
    return (value or "").strip().strip("{}").upper()


@dataclass(frozen=True)
class CodedSelection:
    """A text selection of a project with the codes applied to it, in document order, and each coding's time."""

    guid: str
    source_guid: str
    source_name: str
    start: int
    end: int
    code_guids: tuple[str, ...]
    times: tuple[str, ...] = ()


@dataclass(frozen=True)
class QdaProject:
    """What import reads of a ``.qdpx``: code names and parents by GUID, text sources' texts, coded text
    selections, code sets (name -> code GUIDs), case GUIDs and the tool that wrote it (``origin``)."""

    path: str
    codes: dict[str, str]
    texts: dict[str, SourceText]
    selections: tuple[CodedSelection, ...]
    parents: dict[str, str] = field(default_factory=dict)
    sets: dict[str, frozenset[str]] = field(default_factory=dict)
    cases: frozenset[str] = frozenset()
    origin: str = ""


def read_qdpx(path: str | os.PathLike) -> QdaProject:
    """Read and validate a ``.qdpx`` file from any REFI-QDA tool.

    In: the file. Out: its codes, source texts (by source GUID, where the project holds the
    text) and text selections. Raises :class:`InputError` naming the file when it is missing, not
    a zip, unpacks past the caps (:class:`~pipeline.read.limits.SizeLimits`), has no ``project.qde``,
    or that is not well-formed XML, declares a DTD or is not valid REFI-QDA 1.0.
    """
    name = str(path)
    if not Path(path).is_file():
        raise InputError(name, "파일이 없습니다")
    with open_zip(name, path, SizeLimits.from_env(), "REFI-QDA 프로젝트가 아닙니다: ZIP 압축 파일이 아님") as archive:
        members = {m.lower(): m for m in archive.names()}
        if "project.qde" not in members:
            raise InputError(name, "REFI-QDA 프로젝트가 아닙니다: 압축 파일에 project.qde가 없음")
        root = _project_root(name, archive.read(members["project.qde"]))
        origin = root.get("origin") or ""
        texts = {}
        for source in root.iter(Q + "TextSource"):
            text = _source_text(source, archive, members)
            if text is not None:
                if "ATLAS" in origin.upper():
                    text = text.replace("\r\n", "\n")  # ATLAS.ti's positions count a Windows line end once
                texts[_norm_guid(source.get("guid"))] = SourceText.from_text(source.get("name") or "", text)
    return _project(name, root, texts, origin)


def _project(name: str, root: etree._Element, texts: dict[str, SourceText], origin: str) -> QdaProject:
    """The codes (with their parents), code sets, cases and coded selections of a parsed ``project.qde``."""
    codes, parents = {}, {}
    for code in root.iter(Q + "Code"):
        guid = _norm_guid(code.get("guid"))
        codes[guid] = code.get("name") or ""
        parent = code.getparent()
        parents[guid] = _norm_guid(parent.get("guid")) if parent is not None and parent.tag == Q + "Code" else ""
    sets = {(s.get("name") or "").strip(): frozenset(_norm_guid(m.get("targetGUID"))
                                                     for m in s.iterfind(Q + "MemberCode"))
            for s in root.iter(Q + "Set")}
    cases = frozenset(_norm_guid(c.get("guid")) for c in root.iter(Q + "Case"))
    selections = []
    for source in root.iter(Q + "TextSource"):
        for sel in source.iterchildren(Q + "PlainTextSelection"):
            codings = [(c.find(Q + "CodeRef"), c.get("creationDateTime") or sel.get("modifiedDateTime") or "")
                       for c in sel.iterfind(Q + "Coding")]
            selections.append(CodedSelection(
                guid=_norm_guid(sel.get("guid")), source_guid=_norm_guid(source.get("guid")),
                source_name=source.get("name") or "", start=int(sel.get("startPosition")),
                end=int(sel.get("endPosition")),
                code_guids=tuple(_norm_guid(ref.get("targetGUID")) for ref, _ in codings),
                times=tuple(time for _, time in codings),
            ))
    return QdaProject(name, codes, texts, tuple(selections), parents, sets, cases, origin)


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
                raise InputError(name, f"project.qde의 XML 요소가 {MAX_ELEMENTS:,}개를 넘습니다: "
                                       "한 회차의 프로젝트가 아닙니다")
    except etree.XMLSyntaxError as exc:
        raise InputError(name, f"project.qde가 올바른 XML이 아닙니다: {one_line(exc)}") from exc
    root = events.root
    if root.getroottree().docinfo.doctype:
        raise InputError(name, "project.qde가 DTD(<!DOCTYPE …>)를 선언합니다. REFI-QDA 프로젝트는 DTD를 쓰지 않습니다")
    checker = schema()
    try:
        valid = checker.validate(root)
    except etree.XMLSchemaValidateError as exc:
        raise InputError(name, f"project.qde를 REFI-QDA 1.0 스키마로 검사할 수 없습니다: {one_line(exc)}") from exc
    if not valid:
        error = checker.error_log.last_error
        raise InputError(name, f"project.qde가 REFI-QDA 1.0 스키마에 맞지 않습니다 ({error.line}행): "
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
    """The record read from a project, and what could not be used.

    ``corrections``: one row per unit found with a theme code (every unit of an unchanged project);
    ``changed``: ``(rec_id, run theme, project theme)`` where they differ; ``new_themes``: codes made in
    the tool that became researcher themes (id -> label). Reported, not used: ``unmatched`` (selections
    matching no unit), ``ambiguous`` (``(rec_id, second theme)``: a unit's second theme code),
    ``uncoded`` (units found without a theme code) and ``skipped_codes`` (codes that are not themes).
    """

    corrections: tuple[Correction, ...]
    matched: int
    changed: tuple[tuple[str, str, str], ...] = ()
    new_themes: dict[str, str] = field(default_factory=dict)
    unmatched: tuple[str, ...] = ()
    ambiguous: tuple[tuple[str, str], ...] = ()
    uncoded: tuple[str, ...] = ()
    skipped_codes: tuple[str, ...] = ()


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


@dataclass
class _Codes:
    """Which project codes are themes: GUID -> theme id, and the labels of themes made in the tool."""

    themes: dict[str, str]
    ignored: set[str]
    new: dict[str, str] = field(default_factory=dict)


def _theme_codes(project: QdaProject, run: RunFolder) -> _Codes:
    """Theme codes by GUID or name; program codes, branches, the review code and NVivo's case codes are not themes;
    a new code under the 주제 branch (or in a code set named 주제) is a new researcher theme."""
    catalogue = theme_catalogue(run)
    themes = {make_guid("theme", t.theme_id): t.theme_id for t in catalogue}
    by_name: dict[str, str] = {}
    for theme in reversed(catalogue):
        by_name[theme.label.strip()] = theme.theme_id
        by_name[theme.theme_id.casefold()] = theme.theme_id
    programs = {c for u in run.units for c in (*u.program_codes, *u.unknown_codes)}
    branches = {g for g, n in project.codes.items() if n.strip() in (THEMES_BRANCH, PROGRAMS_BRANCH)}
    ignored = set(project.cases) | branches | {make_guid("review", "needs_review")} | {
        g for g, n in project.codes.items() if n.strip() == REVIEW_CODE or n.split(" ", 1)[0] in programs
        or make_guid("program", n.split(" ", 1)[0]) == g}
    codes = _Codes(themes, ignored)
    theme_branch = {g for g in branches if project.codes[g].strip() == THEMES_BRANCH}
    in_set = project.sets.get(THEMES_BRANCH, frozenset())
    for guid, name in project.codes.items():
        if guid in themes or guid in ignored:
            continue
        found = by_name.get(name.strip()) or by_name.get(name.strip().casefold())
        if found:
            themes[guid] = found
        elif guid in in_set or _under(project, guid, theme_branch):
            codes.new[guid] = name.strip()
    return codes


def _under(project: QdaProject, guid: str, branches: set[str]) -> bool:
    seen = set()
    while guid and guid not in seen:
        seen.add(guid)
        guid = project.parents.get(guid, "")
        if guid in branches:
            return True
    return False


def _spans(project: QdaProject, run: RunFolder) -> dict[str, UnitSpans]:
    """Project source GUID -> the run's units located in the project's copy of that source (by GUID, else by
    file name with or without extension: some tools drop it)."""
    source_guid = source_guids(run)
    ours = {guid: name for name, guid in source_guid.items()}
    by_source: dict[str, list] = {}
    for unit in run.units:
        by_source.setdefault(unit.source, []).append(unit)
    spans = {}
    for guid, text in project.texts.items():
        name = ours.get(guid) or next((n for n in source_guid if text.name in (n, _stem(n))), None)
        located = locate_units(text, by_source.get(name, []))
        if located is not None:
            spans[guid] = located
    return spans


def _unit_of(sel: CodedSelection, by_guid: dict[str, str], spans: dict[str, UnitSpans]) -> str | None:
    rec_id = by_guid.get(sel.guid)
    located = spans.get(sel.source_guid)
    if rec_id is None and located is not None:
        rec_id = located.best_overlap(sel.start, sel.end) or located.by_text(sel.start, sel.end)
    return rec_id


def corrections_from_project(project: QdaProject, run: RunFolder) -> ImportResult:
    """Every unit's theme as the project codes it: a full record, with what differs from the run and what
    could not be used (:class:`ImportResult`)."""
    codes = _theme_codes(project, run)
    by_guid = {make_guid("selection", u.rec_id): u.rec_id for u in run.units}
    spans = _spans(project, run)
    given: dict[str, list[tuple[str, str]]] = {}
    others: dict[str, list[str]] = {}
    unmatched, skipped, found = [], {}, set()
    for sel in project.selections:
        rec_id = _unit_of(sel, by_guid, spans)
        if rec_id is None:
            unmatched.append(sel.guid)
            continue
        found.add(rec_id)
        times = sel.times or ("",) * len(sel.code_guids)
        for guid, time in zip(sel.code_guids, times, strict=True):
            if guid in codes.themes:
                given.setdefault(rec_id, []).append((codes.themes[guid], time))
            elif guid in codes.new:
                given.setdefault(rec_id, []).append((researcher_theme_id(codes.new[guid]), time))
            elif guid not in codes.ignored:
                others.setdefault(rec_id, []).append(guid)
    # A unit whose theme code was removed and that carries one other code made in the tool: that code is its theme.
    for rec_id, guids in others.items():
        lone = list(dict.fromkeys(guids))
        if rec_id not in given and len(lone) == 1 and lone[0] in project.codes:
            codes.new[lone[0]] = project.codes[lone[0]].strip()
            given[rec_id] = [(researcher_theme_id(codes.new[lone[0]]), "")]
        else:
            skipped.update((g, project.codes.get(g, g)) for g in lone)
    return _record(project, run, given, found, codes, unmatched, sorted(set(skipped.values())))


def _record(project: QdaProject, run: RunFolder, given: dict[str, list[tuple[str, str]]], found: set[str],
            codes: _Codes, unmatched: Sequence[str], skipped: Sequence[str]) -> ImportResult:
    """The full record of the units ``given`` themes (in the run's order), and what differs from the run."""
    labels = {t.theme_id: t.label for t in theme_catalogue(run)} | {UNASSIGNED_ID: UNASSIGNED_LABEL}
    new_themes = {researcher_theme_id(label): label for label in codes.new.values()}
    labels |= new_themes
    file_name = Path(project.path).name
    rows, changed, ambiguous, uncoded = [], [], [], []
    for unit, a in zip(run.units, run.assignments, strict=True):
        themes = list(dict.fromkeys(t for t, _ in given.get(unit.rec_id, [])))
        if not themes:
            uncoded += [unit.rec_id] if unit.rec_id in found else []
            continue
        old, new = run_theme(a), themes[0]
        ambiguous += [(unit.rec_id, t) for t in themes[1:]]
        time = next(t for theme, t in given[unit.rec_id] if theme == new)
        note = f"{file_name}: {old} → {new}" if new != old else f"{file_name}: {old} 그대로"
        rows.append(Correction(unit.rec_id, new, labels.get(new, new), note, "qdpx", time, old))
        if new != old:
            changed.append((unit.rec_id, old, new))
    used = {r.theme_id for r in rows}
    return ImportResult(tuple(rows), len(found), tuple(changed), {k: v for k, v in new_themes.items() if k in used},
                        tuple(unmatched), tuple(ambiguous), tuple(uncoded), tuple(skipped))


def _short_list(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" … (+{len(items) - limit})" if len(items) > limit else "")


def _report(result: ImportResult, project: QdaProject, run: RunFolder) -> None:
    """One line per change against the run, and one warning line per kind of thing left out."""
    labels = {t.theme_id: t.label for t in theme_catalogue(run)} | {UNASSIGNED_ID: UNASSIGNED_LABEL}
    labels |= result.new_themes
    for label in result.new_themes.values():
        log.info("QDA 도구에서 만든 코드 '%s'를 새 주제(연구자)로 가져옵니다", label)
    for rec_id, old, new in result.changed:
        log.info("  %s: %s → %s", rec_id, labels.get(old, old), labels.get(new, new))
    if result.unmatched:
        log.warning("%s: 코딩된 구간 %d개는 %s의 어느 권고와도 맞지 않아 건너뜁니다 (GUID %s)", project.path,
                    len(result.unmatched), run.path, _short_list(result.unmatched))
    if result.ambiguous:
        log.warning("%s: 권고 %d건에 주제 코드가 둘 이상이라 첫 주제를 씁니다; 건너뛴 주제: %s", project.path,
                    len({r for r, _ in result.ambiguous}),
                    _short_list([f"{r} ({labels.get(t, t)})" for r, t in result.ambiguous]))
    if result.uncoded:
        log.warning("%s: 권고 %d건에 주제 코드가 없어 기록에서 뺍니다: %s", project.path, len(result.uncoded),
                    _short_list(result.uncoded))
    if result.skipped_codes:
        log.warning("%s: 주제가 아닌 코드 %d개는 건너뜁니다 ('%s' 아래에 두면 새 주제가 됩니다): %s", project.path,
                    len(result.skipped_codes), THEMES_BRANCH, _short_list(list(result.skipped_codes)))


def import_qdpx(qdpx: str | os.PathLike, run_dir: str | os.PathLike, out: str | os.PathLike, *,
                changed_only: bool = False) -> ImportResult:
    """Write the theme codings of a (recoded) ``.qdpx`` as the coding record of a run folder's units.

    In: the project file, the run folder it was exported from (or a run of the same input), the
    corrections CSV to write. Out: the :class:`ImportResult`; the CSV (the record's columns, UTF-8 with
    BOM, one row per unit the project codes with a theme; with ``changed_only``, only the rows whose theme
    differs from the run's) is written atomically. The changes against the run are logged one line each;
    selections that match no unit, units with several themes or none, and codes that are not themes are
    each one warning line. Raises :class:`InputError` for a
    malformed project or run folder; nothing is written then.
    """
    refuse_inside(out, run_dir)
    if Path(out).resolve() == Path(qdpx).resolve():
        raise InputError(str(out), "--out 이 가져오는 프로젝트 자체입니다; 수정 파일은 다른 파일에 쓰세요")
    project = read_qdpx(qdpx)
    run = load_run(run_dir)
    result = corrections_from_project(project, run)
    _report(result, project, run)
    rows = [c for c in result.corrections if not c.keeps] if changed_only else result.corrections
    write_file(out, corrections_csv(rows))
    return result
