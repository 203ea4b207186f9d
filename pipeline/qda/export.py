"""REFI-QDA exchange, export side: a run folder as a coded ``.qdpx`` project, and what import shares.

:func:`export_qdpx` writes a REFI-QDA 1.0 project (a zip of ``project.qde`` and ``Sources/``) that
MAXQDA, NVivo, ATLAS.ti and QualCoder open: every input file of the run is a text source holding
the text the reader decoded from it (so an HWP, HWPX, PDF or DOCX round becomes the same lines the
parser saw), every unit is a ``PlainTextSelection`` of its lines coded with its theme and its
program codes, the codebook is a tree of codes (``주제`` with one code per theme, ``사업 코드`` with
one code per cited program, named with its registry name), and every member is a case holding the
member's selections. Every GUID is a UUID5 of a stable key (rec_id, theme id, program code, input
hash), so exporting two runs of the same input gives the same GUIDs and a researcher's project can
be matched back to the run.

:mod:`pipeline.qda.importer` reads such a project back after a researcher has recoded it; it shares
the GUIDs (:func:`make_guid`, :func:`source_guids`), the source texts (:class:`SourceText`), the
theme codes (:func:`theme_catalogue`) and the schema defined here. The run folder is read through
:func:`pipeline.runfolder.folder.load_run`.

Positions are zero-based character offsets (Unicode code points) into the source text, end
exclusive: ``text[startPosition:endPosition]`` is the selected text.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from lxml import etree

from pipeline.core.atomic import write_file
from pipeline.core.errors import InputError
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, Document, Unit
from pipeline.read.documents import read_document
from pipeline.read.programs import program_code_key
from pipeline.runfolder.cards import member_name, several_rounds
from pipeline.runfolder.folder import RunFolder, load_run
from pipeline.themes.codebook import load_codebook

log = logging.getLogger(__name__)

QDA_NAMESPACE = "urn:QDA-XML:project:1.0"
#: ``{namespace}`` prefix of the REFI-QDA element names, for lxml's ``find`` and ``iter``.
Q = f"{{{QDA_NAMESPACE}}}"
#: Namespace of every GUID made here: the same key gives the same GUID on every machine and rerun.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:advisory-themes:refi-qda")
THEMES_BRANCH = "주제"
PROGRAMS_BRANCH = "사업 코드"
#: The code of the units the model was unsure of (``needs_review``), so a QDA user can pull them up.
REVIEW_CODE = "검토 필요"
#: Each unit's confidence as case variables (REFI-QDA keeps variables on cases): name -> type.
VARIABLES: dict[str, str] = {"주제 점수": "Float", "차순위 주제": "Text", "점수 차이": "Float", "검토 필요": "Boolean",
                             "주제 출처": "Text"}
UNREGISTERED = "미등록"
ORIGIN = "advisory-themes"
# Fixed zip entry dates: the same run exports to the same bytes.
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)


def make_guid(*key: str) -> str:
    """The GUID of a thing named by ``key`` (e.g. ``("selection", rec_id)``): a UUID5, upper case."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(key))).upper()


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class SourceText:
    """The text of one input file as a ``.qdpx`` source holds it, with where its lines start.

    ``checkpoints[j]`` is the offset of line ``j * LINE_STRIDE + 1`` (1-based, the reader's numbering);
    the lines between two checkpoints are found by scanning for line ends. Only every
    ``LINE_STRIDE``-th start is kept because a project's source may hold tens of millions of lines
    (a 64 KB ``.qdpx`` can inflate to one): a start per line took 4 bytes a line, more than the text.
    """

    name: str
    text: str
    checkpoints: np.ndarray = field(compare=False)
    n_lines: int = field(compare=False)

    @classmethod
    def from_text(cls, name: str, text: str) -> SourceText:
        """In: a file name and its text (any of ``\\n`` / ``\\r\\n`` line ends). Out: the source with its line index."""
        return cls(name, text, *_line_index(text))

    @classmethod
    def from_document(cls, doc: Document) -> SourceText:
        """In: a read document. Out: its lines joined with ``\\n`` (each line ends with one), named by file name."""
        text = "".join(f"{line.text}\n" for line in doc.lines)
        return cls.from_text(doc.path.replace("\\", "/").rsplit("/", 1)[-1], text)

    def line_offset(self, k: int) -> int:
        """The offset where line ``k + 1`` starts (``k`` lines before it); ``len(text)`` for ``k == n_lines``."""
        if k >= self.n_lines:
            return len(self.text)
        offset = int(self.checkpoints[k // LINE_STRIDE])
        for _ in range(k % LINE_STRIDE):
            offset = self.text.index("\n", offset) + 1
        return offset

    def span(self, line_start: int, line_end: int) -> tuple[int, int]:
        """Offsets ``[start, end)`` of lines ``line_start..line_end`` (1-based, inclusive), outer whitespace trimmed.

        Raises ``ValueError`` for lines outside the text.
        """
        if not 1 <= line_start <= line_end <= self.n_lines:
            raise ValueError(f"lines {line_start}-{line_end} are outside {self.name} ({self.n_lines} lines)")
        start, end = self.line_offset(line_start - 1), self.line_offset(line_end)
        chunk = self.text[start:end]
        if not chunk.strip():
            return start, start
        # Selections start at the first visible character: indentation and line ends are layout, not text.
        return start + len(chunk) - len(chunk.lstrip()), start + len(chunk.rstrip())


# Characters scanned for line ends at a time (as UTF-32: 4 MB).
_SCAN = 1 << 20
#: Lines between two kept line starts of a SourceText: a lookup scans fewer line ends than this (20k spans of a
#: 30k-line source: 0.12 s at 32, 0.80 s at 256), and a 64M-line source keeps 16 MB of starts (a start per line
#: as uint32 took 256 MB).
LINE_STRIDE = 32


def _line_index(text: str) -> tuple[np.ndarray, int]:
    """The start of every ``LINE_STRIDE``-th line of ``text`` (from line 1) and the number of lines."""
    n_ends = text.count("\n")
    n_lines = n_ends + (0 if not text or text.endswith("\n") else 1)
    checkpoints = np.empty(n_ends // LINE_STRIDE + 1, dtype=np.int64)
    checkpoints[0] = 0
    filled, seen = 1, 0
    for begin in range(0, len(text), _SCAN):
        codes = np.frombuffer(text[begin:begin + _SCAN].encode("utf-32-le", "surrogatepass"), dtype="<u4")
        ends = np.flatnonzero(codes == 10)
        # Line end number m (1-based over the text) starts line m + 1; keep those with m % LINE_STRIDE == 0.
        kept = ends[-(seen + 1) % LINE_STRIDE::LINE_STRIDE] + (begin + 1)
        checkpoints[filled:filled + len(kept)] = kept
        filled += len(kept)
        seen += len(ends)
    return checkpoints[:filled], n_lines


@dataclass(frozen=True)
class ThemeCode:
    """A theme as a code: its id, the label researchers see and a one-line description."""

    theme_id: str
    label: str
    description: str


def theme_catalogue(run: RunFolder) -> list[ThemeCode]:
    """The run's themes in themes.csv order, then codebook themes no unit got (so a researcher can recode into them).

    ``미분류`` comes last when some unit has no theme.
    """
    codes = [ThemeCode(t.theme_id, t.label or t.theme_id, f"{t.theme_id} ({t.source}) 키워드: {', '.join(t.keywords)}")
             for t in run.theme_cards]
    known = {c.theme_id for c in codes}
    book = (run.info.get("parameters") or {}).get("codebook") or {}
    if book.get("path"):
        try:
            codebook = load_codebook(book["path"])
        except InputError as err:
            log.warning("%s; 실행의 주제만 코드로 씁니다", err)
        else:
            if book.get("sha256") and codebook.sha256 != book["sha256"]:
                log.warning("%s: 실행 %s 이후 바뀌었습니다; 지금의 주제를 코드로 씁니다", book["path"],
                            run.path)
            codes += [ThemeCode(t.theme_id, t.label, f"{t.theme_id} (codebook) {t.description}")
                      for t in codebook.themes if t.theme_id not in known]
    if any(run_theme(a) == UNASSIGNED_ID for a in run.assignments):
        codes.append(ThemeCode(UNASSIGNED_ID, UNASSIGNED_LABEL, f"{UNASSIGNED_ID}: 어느 주제에도 배정되지 않은 권고"))
    return codes


def run_theme(a: Assignment) -> str:
    """The theme id a unit has in the run; ``unassigned`` for a unit without one."""
    return a.theme_id if a.theme_id and a.theme_source != UNASSIGNED_ID else UNASSIGNED_ID


# --------------------------------------------------------------------------- export


def load_sources(run: RunFolder) -> dict[str, SourceText]:
    """Re-read every input file listed in run.json, as the run's reader read it; file name -> source text.

    Raises :class:`InputError` when a file is gone, changed since the run (its SHA-256 differs
    from run.json), or two inputs share a file name (units name their source by file name only).
    """
    sources: dict[str, SourceText] = {}
    for entry in run.info.get("inputs") or []:
        path = str(entry.get("path", ""))
        if not Path(path).is_file():
            raise InputError(path, f"실행 {run.path}의 입력 파일이 없습니다 (옮겼나요? 상대 경로는 실행한 "
                                   "폴더를 기준으로 읽습니다)")
        doc = read_document(path)
        if doc.sha256 != entry.get("sha256"):
            raise InputError(path, f"실행 {run.path} 이후 바뀌었습니다 (SHA-256이 run.json과 다름)")
        source = SourceText.from_document(doc)
        if source.name in sources:
            raise InputError(path, f"실행 {run.path}의 입력 두 개가 이름이 {source.name}로 같아 "
                                   "권고가 어느 파일인지 구별할 수 없습니다")
        sources[source.name] = source
    return sources


def source_guids(run: RunFolder) -> dict[str, str]:
    """File name -> source GUID, keyed by the input's hash so a changed file is a different source."""
    return {Path(str(e.get("path", "")).replace("\\", "/")).name: make_guid("source", str(e.get("sha256", "")))
            for e in run.info.get("inputs") or []}


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, Q + tag, {k: v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _code(parent: etree._Element, guid: str, name: str, description: str, codable: bool = True) -> etree._Element:
    element = _sub(parent, "Code", guid=guid, name=name, isCodable="true" if codable else "false")
    if description:
        _sub(element, "Description", description)
    return element


def _program_codes(run: RunFolder) -> list[tuple[str, str]]:
    """(code, code name) of every program code a unit cites, registered ones named, others marked 미등록."""
    names = run.program_names
    cited = {c for u in run.units for c in (*u.program_codes, *u.unknown_codes)}
    return [(c, f"{c} {names[c]}" if c in names else f"{c} ({UNREGISTERED})")
            for c in sorted(cited, key=program_code_key)]


def build_project(run: RunFolder, sources: dict[str, SourceText]) -> etree._Element:
    """The ``project.qde`` tree of a run: codes, member cases, one text source per input with coded selections.

    In: the run folder and its inputs' texts (:func:`load_sources`). Out: the ``Project`` element.
    Raises :class:`InputError` when a unit names a source that is not among the inputs or lines
    outside it.
    """
    rounds = sorted({u.round for u in run.units})
    user = make_guid("user", ORIGIN)
    project = etree.Element(Q + "Project", nsmap={None: QDA_NAMESPACE},
                            name=f"{ORIGIN} {', '.join(rounds)}", origin=ORIGIN, creatingUserGUID=user)
    _sub(_sub(project, "Users"), "User", guid=user, name=ORIGIN)

    theme_guid, program_guid = _code_book(project, run)
    source_guid = source_guids(run)
    selections: dict[str, list[tuple[int, int, Unit, Assignment]]] = {name: [] for name in sources}
    members: dict[tuple[str, int], list[str]] = {}
    for unit, a in zip(run.units, run.assignments, strict=True):
        if unit.source not in sources:
            raise InputError(str(run.path / "recommendations.csv"),
                             f"권고 {unit.rec_id}의 출처 {unit.source}이(가) run.json의 입력 목록에 없습니다")
        try:
            start, end = sources[unit.source].span(unit.line_start, unit.line_end)
        except ValueError as err:
            raise InputError(str(run.path / "recommendations.csv"), f"권고 {unit.rec_id}: {err}") from err
        selections[unit.source].append((start, end, unit, a))
        if unit.member is not None:
            members.setdefault((unit.round, unit.member), []).append(unit.rec_id)

    _variables_and_cases(project, run, members)

    sources_el = _sub(project, "Sources")
    for name in sources:
        guid = source_guid[name]
        text_source = _sub(sources_el, "TextSource", guid=guid, name=name, plainTextPath=f"internal://{guid}.txt")
        for start, end, unit, a in sorted(selections[name], key=lambda s: (s[0], s[1], s[2].rec_id)):
            selection = _sub(text_source, "PlainTextSelection", guid=make_guid("selection", unit.rec_id),
                             name=unit.rec_id, startPosition=str(start), endPosition=str(end))
            _sub(selection, "Description", f"{unit.rec_id} · {unit.agenda} · {unit.question}")
            code_guids = [theme_guid[run_theme(a)]]
            code_guids += [program_guid[c] for c in dict.fromkeys([*unit.program_codes, *unit.unknown_codes])]
            code_guids += [make_guid("review", "needs_review")] if a.needs_review else []
            for code in code_guids:
                coding = _sub(selection, "Coding", guid=make_guid("coding", unit.rec_id, code), creatingUser=user)
                _sub(coding, "CodeRef", targetGUID=code)
    return project


def _code_book(project: etree._Element, run: RunFolder) -> tuple[dict[str, str], dict[str, str]]:
    """The project's code book: the themes under the ``주제`` branch, the review code where a unit needs review,
    and the cited program codes under their branch; out, the GUIDs of the theme and program codes."""
    codes = _sub(_sub(project, "CodeBook"), "Codes")
    branch = _code(codes, make_guid("branch", "themes"), THEMES_BRANCH, "권고의 주제 (advisory-themes)", codable=False)
    theme_guid = {}
    for theme in theme_catalogue(run):
        theme_guid[theme.theme_id] = make_guid("theme", theme.theme_id)
        _code(branch, theme_guid[theme.theme_id], theme.label, theme.description)
    if any(a.needs_review for a in run.assignments):
        _code(codes, make_guid("review", "needs_review"), REVIEW_CODE,
              "모델이 확신하지 못한 권고: 미분류이거나 차순위 주제와의 점수 차이가 작음 (needs_review = 1)")
    program_guid = {}
    programs = _program_codes(run)
    if programs:
        branch = _code(codes, make_guid("branch", "programs"), PROGRAMS_BRANCH, "권고가 언급한 사업 코드",
                       codable=False)
        for code, name in programs:
            program_guid[code] = make_guid("program", code)
            _code(branch, program_guid[code], name, "")
    return theme_guid, program_guid


def _value(parent: etree._Element, variable: str, kind: str, value: object) -> None:
    entry = _sub(parent, "VariableValue")
    _sub(entry, "VariableRef", targetGUID=make_guid("variable", variable))
    text = ("true" if value else "false") if kind == "Boolean" else f"{value:.4f}" if kind == "Float" else str(value)
    _sub(entry, f"{kind}Value", text)


def _variables_and_cases(project: etree._Element, run: RunFolder, members: dict[tuple[str, int], list[str]]) -> None:
    """One case per member (``위원 2 (△△△)``, holding the member's selections) and one per unit (``권고 REC_ID``)
    with the unit's score, runner-up, margin, review flag and theme source as variables."""
    variables = _sub(project, "Variables")
    for name, kind in VARIABLES.items():
        _sub(variables, "Variable", guid=make_guid("variable", name), name=name, typeOfVariable=kind)
    cases = _sub(project, "Cases")
    with_round = several_rounds(run.units)
    first = {(u.round, u.member): u for u in run.units if u.member is not None}
    for (round_id, member), rec_ids in sorted(members.items()):
        case = _sub(cases, "Case", guid=make_guid("case", round_id, str(member)),
                    name=member_name(first[(round_id, member)], with_round))
        _sub(case, "Description", f"{round_id} · 위원 {member} · {first[(round_id, member)].member_label}".rstrip(" ·"))
        for rec_id in rec_ids:
            _sub(case, "SelectionRef", targetGUID=make_guid("selection", rec_id))
    labels = {t.theme_id: t.label for t in theme_catalogue(run)}
    for unit, a in zip(run.units, run.assignments, strict=True):
        case = _sub(cases, "Case", guid=make_guid("unit case", unit.rec_id), name=f"권고 {unit.rec_id}")
        _sub(case, "Description", f"{member_name(unit, with_round)} · {unit.agenda}")
        values = {"주제 점수": a.theme_score, "차순위 주제": labels.get(a.theme_runner_up, a.theme_runner_up),
                  "점수 차이": a.theme_margin, "검토 필요": a.needs_review, "주제 출처": a.theme_source}
        for name, kind in VARIABLES.items():
            if values[name] is not None and values[name] != "":
                _value(case, name, kind, values[name])
        _sub(case, "SelectionRef", targetGUID=make_guid("selection", unit.rec_id))


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The REFI-QDA 1.0 ``Project.xsd`` shipped with the package."""
    with resources.as_file(resources.files("pipeline.qda") / "schemas" / "Project.xsd") as path:
        return etree.XMLSchema(etree.parse(str(path)))


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
        raise InputError(str(out), "REFI-QDA 프로젝트 파일은 .qdpx로 끝나야 합니다")
    run = load_run(run_dir)
    sources = load_sources(run)
    project = build_project(run, sources)
    # A project the tools would reject is a bug here, not bad input: fail loudly before writing.
    schema().assertValid(project)
    qde = etree.tostring(project, xml_declaration=True, encoding="utf-8", pretty_print=True)
    guids = source_guids(run)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [("project.qde", qde)]
        entries += sorted((f"Sources/{guids[name]}.txt", s.text.encode("utf-8")) for name, s in sources.items())
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    write_file(out, buffer.getvalue())
    return ExportSummary(out, len(sources), len(project.findall(f".//{Q}PlainTextSelection")),
                         len(project.findall(f".//{Q}Code")), len(project.findall(f".//{Q}Case")))
