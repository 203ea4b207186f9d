"""Program mapping: which programs and fields each unit concerns.

Three sources of a program code, recorded per code in ``Unit.code_sources``:

* ``explicit`` — a code written in the text: ``(1-2-1)``, ``[1-2-1]``, ``【1-2-1】``, ``‘1-2-1’``;
* ``alias``    — a registry alias mentioned in the text (``상생상회`` → ``3-3-1``);
* ``agenda``   — an alias in the unit's agenda title (units under the NextLocal agenda get ``NL``).

Field mentions (인적교류 / 정보교류 / 물자교류) give ``Unit.fields`` 1 / 2 / 3. A code missing from
the registry is kept, listed in ``Unit.unknown_codes`` and reported by ``unknown_codes()``.
Matching ignores whitespace, so ``농부의 시장`` also matches ``농부의시장`` in a wrapped line.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.core.errors import InputError
from pipeline.core.paths import DEFAULT_PROGRAMS
from pipeline.core.records import Program, Unit

FIELD_TERMS = {"인적교류": "1", "정보교류": "2", "물자교류": "3"}
FIELD_NAMES = {v: k for k, v in FIELD_TERMS.items()}

_OPEN, _CLOSE = "(（[【‘'\"“", ")）]】’'\"”"
CODE_RE = re.compile(rf"[{re.escape(_OPEN)}]\s*(\d{{1,2}})\s*-\s*(\d{{1,2}})\s*-\s*(\d{{1,2}})\s*[{re.escape(_CLOSE)}]")
_REQUIRED = ("code", "name", "field", "aliases")
_CODE_PART = re.compile(r"\d+")
#: The NextLocal program: not numbered, always the last matrix column.
NEXTLOCAL = "NL"


def program_code_key(code: str) -> tuple[int, tuple[int, ...], str]:
    """Sort key for program codes: numeric codes naturally (``1-2-1`` < ``1-10-1``), others after, ``NL`` last."""
    if code == NEXTLOCAL:
        return (2, (), code)
    parts = code.split("-")
    if all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts), code)
    return (1, tuple(int(p) for p in _CODE_PART.findall(code)), code)


class ProgramRegistry:
    """The researcher-editable list of programs (``corpus/programs.csv``: code,name,field,aliases)."""

    def __init__(self, programs: Iterable[Program]) -> None:
        self.programs: dict[str, Program] = {}
        for p in programs:
            self.programs[p.code] = p

    @classmethod
    def load(cls, path: str | Path | None = None) -> ProgramRegistry:
        """Read a registry CSV (UTF-8, BOM allowed); a malformed file raises :class:`InputError`."""
        path = Path(path) if path is not None else DEFAULT_PROGRAMS
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
                header = rows[0].keys() if rows else []
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"사업 목록을 읽을 수 없습니다 ({exc.__class__.__name__})") from exc
        missing = [c for c in _REQUIRED if c not in header]
        if not rows or missing:
            raise InputError(str(path), f"사업 목록에는 {','.join(_REQUIRED)} 열이 있어야 합니다")
        programs = []
        for n, row in enumerate(rows, start=2):
            code = (row["code"] or "").strip()
            if not code:
                raise InputError(str(path), f"{n}행: 사업 코드가 비어 있습니다")
            aliases = tuple(a.strip() for a in (row["aliases"] or "").split(";") if a.strip())
            programs.append(Program(code, (row["name"] or "").strip(), (row["field"] or "").strip(), aliases))
        return cls(programs)

    def __contains__(self, code: str) -> bool:
        return code in self.programs

    def alias_table(self) -> list[tuple[str, str]]:
        """(whitespace-free alias, code) pairs, longest alias first so the most specific wins."""
        table = {_squash(a): p.code for p in self.programs.values() for a in p.aliases if _squash(a)}
        return sorted(table.items(), key=lambda kv: (-len(kv[0]), kv[0]))


class ProgramMapper:
    """Add ``program_codes``, ``code_sources``, ``fields`` and ``unknown_codes`` to units.

    ``transform(units) -> units``: a pure function of the units and the registry.
    """

    def __init__(self, registry: ProgramRegistry | None = None) -> None:
        self.registry = registry if registry is not None else ProgramRegistry.load()

    def fit(self, units: Sequence[Unit] | None = None) -> ProgramMapper:
        """No-op, for pipeline symmetry."""
        return self

    def transform(self, units: Sequence[Unit]) -> list[Unit]:
        aliases = self.registry.alias_table()
        return [self._map(u, aliases) for u in units]

    def _map(self, unit: Unit, aliases: list[tuple[str, str]]) -> Unit:
        body = f"{unit.lead} {unit.text}"
        sources: dict[str, set[str]] = {}
        for m in CODE_RE.finditer(body):
            sources.setdefault("-".join(str(int(g)) for g in m.groups()), set()).add("explicit")
        for code in _alias_hits(_squash(CODE_RE.sub(" ", body)), aliases):
            sources.setdefault(code, set()).add("alias")
        for code in _alias_hits(_squash(unit.agenda), aliases):
            sources.setdefault(code, set()).add("agenda")
        codes = tuple(sorted(sources, key=program_code_key))
        flat = _squash(body)
        fields = tuple(sorted({f for term, f in FIELD_TERMS.items() if term in flat}))
        return dataclasses.replace(
            unit,
            program_codes=codes,
            code_sources=tuple((c, s) for c in codes for s in sorted(sources[c])),
            fields=fields,
            unknown_codes=tuple(c for c in codes if c not in self.registry),
        )


def unknown_codes(units: Iterable[Unit]) -> dict[str, list[str]]:
    """Codes not in the registry, each with the rec_ids that cite it (for the run's warning)."""
    found: dict[str, list[str]] = {}
    for u in units:
        for c in u.unknown_codes:
            found.setdefault(c, []).append(u.rec_id)
    return found


def _alias_hits(flat: str, aliases: list[tuple[str, str]]) -> set[str]:
    hits: set[str] = set()
    for alias, code in aliases:
        if alias in flat:
            hits.add(code)
            # Blank the match so a shorter alias inside it (농부시장 in 농부시장의...) is not counted twice.
            flat = flat.replace(alias, " ")
    return hits


def _squash(s: str) -> str:
    return "".join(s.split())


def program_names(run_info: dict) -> dict[str, str]:
    """Program code -> name from ``run_info["programs"]`` (the registry a run used, in ``run.json``); {} if none."""
    return {str(k): str(v) for k, v in (run_info.get("programs") or {}).items()}
