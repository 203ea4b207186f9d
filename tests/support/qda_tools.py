"""Edit an exported ``.qdpx`` the way a researcher and a QDA tool would, for the import tests.

A :class:`Project` is an exported project opened for editing: recode a unit's selection (found by its
``rec_id``, the selection's name in our export), make a new code, then save it as a given tool writes
projects. What each tool does differently, as QualCoder's REFI-QDA importer (ccbogel/QualCoder,
``src/qualcoder/refi.py``) documents it and the ATLAS.ti sample in ``tests/fixtures/refi-qda`` shows:

- **MAXQDA** renews every GUID, keeps the sources in a lower-case ``sources/`` folder, stamps each
  coding with ``creatingUser`` and ``creationDateTime``, and writes selections without a coding for
  its comments (a ``Description`` only).
- **NVivo** keeps Windows line ends in its source files and counts ``\\r\\n`` as two characters in
  positions; its cases are also nodes: a ``Code`` with the case's GUID, coded on the case's text.
- **ATLAS.ti** keeps Windows line ends in its source files but counts ``\\r\\n`` as *one* character,
  names itself in ``origin``, writes upper-case GUIDs and has no code tree (codes are flat; a new code
  sits at the top level).
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path

from lxml import etree

NS = {"q": "urn:QDA-XML:project:1.0"}
Q = "{urn:QDA-XML:project:1.0}"
_GUID_ATTRIBUTES = ("guid", "targetGUID", "creatingUser", "modifyingUser", "creatingUserGUID", "modifyingUserGUID")


class Project:
    """An exported project being edited: its ``project.qde`` tree and its source texts (member name -> text)."""

    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as archive:
            self.root = etree.fromstring(archive.read("project.qde"))
            self.sources = {n: archive.read(n).decode("utf-8") for n in archive.namelist() if n != "project.qde"}
        self.time = "2025-03-04T09:10:11Z"

    def code(self, name: str) -> etree._Element:
        return self.root.find(f".//q:Code[@name='{name}']", NS)

    def selection(self, rec_id: str) -> etree._Element:
        return self.root.find(f".//q:PlainTextSelection[@name='{rec_id}']", NS)

    def theme_ref(self, rec_id: str) -> etree._Element:
        """The unit's theme coding (the first coding of our export)."""
        return self.selection(rec_id).find("q:Coding/q:CodeRef", NS)

    def recode(self, rec_id: str, code_name: str) -> None:
        """Replace the unit's theme code by the code named ``code_name``, as a coder does in the tool."""
        ref = self.theme_ref(rec_id)
        ref.set("targetGUID", self.code(code_name).get("guid"))
        ref.getparent().set("creationDateTime", self.time)

    def add_code(self, name: str, under: str | None = "주제") -> etree._Element:
        """A new code, in the branch named ``under`` (None: at the top level of the code book)."""
        parent = self.code(under) if under else self.root.find(".//q:CodeBook/q:Codes", NS)
        return etree.SubElement(parent, Q + "Code", guid=str(uuid.uuid4()).upper(), name=name, isCodable="true")

    def add_coding(self, rec_id: str, code_name: str) -> None:
        coding = etree.SubElement(self.selection(rec_id), Q + "Coding", guid=str(uuid.uuid4()).upper(),
                                  creationDateTime=self.time)
        etree.SubElement(coding, Q + "CodeRef", targetGUID=self.code(code_name).get("guid"))

    # --------------------------------------------------------------------------- tools

    def renew_guids(self, lower: bool = False) -> None:
        """Every GUID replaced by a fresh one (references and source file names follow); selection names dropped."""
        fresh: dict[str, str] = {}

        def new(old: str) -> str:
            if old not in fresh:
                fresh[old] = str(uuid.uuid4()).lower() if lower else str(uuid.uuid4()).upper()
            return fresh[old]

        for element in self.root.iter():
            for attribute in _GUID_ATTRIBUTES:
                if element.get(attribute):
                    element.set(attribute, new(element.get(attribute)))
        for source in self.root.iterfind(".//q:TextSource", NS):
            old = source.get("plainTextPath").removeprefix("internal://").removesuffix(".txt")
            source.set("plainTextPath", f"internal://{new(old)}.txt")
            self.sources = {name.replace(old, new(old)): text for name, text in self.sources.items()}
        for selection in self.root.iterfind(".//q:PlainTextSelection", NS):
            selection.attrib.pop("name", None)

    def as_maxqda(self) -> None:
        self.renew_guids(lower=True)
        user = self.root.find(".//q:User", NS).get("guid")
        for coding in self.root.iterfind(".//q:Coding", NS):
            coding.set("creatingUser", user)
            coding.set("creationDateTime", coding.get("creationDateTime") or "2025-03-01T08:00:00Z")
        # A comment on the first selection's text: a selection with a description and no coding.
        first = self.root.find(".//q:PlainTextSelection", NS)
        comment = etree.Element(Q + "PlainTextSelection", guid=str(uuid.uuid4()), name="메모",
                                startPosition=first.get("startPosition"), endPosition=first.get("endPosition"))
        etree.SubElement(comment, Q + "Description").text = "다시 볼 것"
        first.addprevious(comment)
        self.sources = {name.replace("Sources/", "sources/"): text for name, text in self.sources.items()}

    def as_nvivo(self) -> None:
        self.renew_guids(lower=True)
        for source in self.root.iterfind(".//q:TextSource", NS):
            name = "Sources/" + source.get("plainTextPath").removeprefix("internal://")
            text = self.sources[name]
            for selection in source.iterfind("q:PlainTextSelection", NS):
                for attribute in ("startPosition", "endPosition"):
                    position = int(selection.get(attribute))
                    selection.set(attribute, str(position + text.count("\n", 0, position)))
            self.sources[name] = text.replace("\n", "\r\n")
        # Cases are nodes too: a code with each case's GUID, coded on the case's selections.
        cases = etree.SubElement(self.root.find(".//q:CodeBook/q:Codes", NS), Q + "Code", guid=str(uuid.uuid4()),
                                 name="Cases", isCodable="false")
        for case in self.root.iterfind(".//q:Case", NS):
            etree.SubElement(cases, Q + "Code", guid=case.get("guid"), name=case.get("name"), isCodable="true")
            for ref in case.iterfind("q:SelectionRef", NS):
                selection = self.root.find(f".//q:PlainTextSelection[@guid='{ref.get('targetGUID')}']", NS)
                coding = etree.SubElement(selection, Q + "Coding", guid=str(uuid.uuid4()))
                etree.SubElement(coding, Q + "CodeRef", targetGUID=case.get("guid"))

    def as_atlas(self) -> None:
        self.renew_guids()
        self.root.set("origin", "ATLAS.ti for Windows 23.2.3.27778")
        codes = self.root.find(".//q:CodeBook/q:Codes", NS)
        for code in list(codes.iter(Q + "Code")):
            if code.get("isCodable") == "false":
                for child in code.iterfind("q:Code", NS):
                    codes.append(child)
                codes.remove(code)
        for coding in self.root.iterfind(".//q:Coding", NS):
            coding.set("creationDateTime", coding.get("creationDateTime") or "2025-03-01T08:00:00Z")
        self.sources = {name: text.replace("\n", "\r\n") for name, text in self.sources.items()}

    def save(self, target: Path) -> Path:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("project.qde", etree.tostring(self.root, xml_declaration=True, encoding="utf-8"))
            for name, text in self.sources.items():
                archive.writestr(name, text.encode("utf-8"))
        return target
