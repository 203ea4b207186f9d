"""The theme codebook (``corpus/themes.yaml``): what each codebook theme is called and means.

A codebook is a list of themes, each with a stable ASCII ``id``, a Korean ``label``, a one-sentence
``description``, ``keywords`` and short ``examples``. The theme model turns descriptions and examples
into semantic prototypes and keywords (plus label, description and examples) into a lexical profile;
see :mod:`pipeline.themes.model`. Loading validates everything at once and fails with one line naming the
file, so a researcher editing the YAML sees what to fix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.core.errors import InputError
from pipeline.core.paths import DEFAULT_CODEBOOK

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class CodebookTheme:
    """One codebook theme: id (stable ASCII), Korean label, description, keywords, examples."""

    theme_id: str
    label: str
    description: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def prototype_texts(self) -> tuple[str, ...]:
        """Texts whose embeddings average into the theme's semantic prototype."""
        return (f"{self.label}: {self.description}", *self.examples)

    @property
    def profile_text(self) -> str:
        """All the theme's words in one text, for its lexical (TF-IDF) profile."""
        return " ".join((self.label, self.description, *self.keywords, *self.examples))


@dataclass(frozen=True)
class Codebook:
    """A validated codebook; ``source`` is where it came from, ``sha256`` the hash of its content."""

    themes: tuple[CodebookTheme, ...]
    source: str = ""
    sha256: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.theme_id for t in self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def to_dict(self) -> dict:
        """Plain data (the YAML layout), for JSON model files."""
        return {
            "source": self.source,
            "sha256": self.sha256,
            "themes": [
                {
                    "id": t.theme_id,
                    "label": t.label,
                    "description": t.description,
                    "keywords": list(t.keywords),
                    "examples": list(t.examples),
                }
                for t in self.themes
            ],
        }

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> Codebook:
        """Validate plain data (the YAML layout) into a codebook; raises ``InputError`` naming ``source``."""
        if not isinstance(data, dict) or not isinstance(data.get("themes"), list) or not data["themes"]:
            raise InputError(source, "코드북에는 비어 있지 않은 'themes:' 목록이 있어야 합니다")
        themes, seen = [], set()
        for n, raw in enumerate(data["themes"], start=1):
            where = f"{n}번째 주제"
            if not isinstance(raw, dict):
                raise InputError(source, f"{where}: id, label, description을 가진 항목이어야 합니다")
            theme_id = raw.get("id")
            if not isinstance(theme_id, str) or not _ID.match(theme_id):
                raise InputError(source, f"{where}: id {theme_id!r}은(는) 영문 소문자·숫자·_(a-z, 0-9, _)여야 합니다")
            where = f"주제 {theme_id!r}"
            if theme_id in seen:
                raise InputError(source, f"{where}: id가 중복됩니다")
            seen.add(theme_id)
            label, description = raw.get("label"), raw.get("description")
            for name, value in (("label", label), ("description", description)):
                if not isinstance(value, str) or not value.strip():
                    raise InputError(source, f"{where}: '{name}'은(는) 비어 있지 않은 문자열이어야 합니다")
            keywords = _strings(raw.get("keywords"), source, f"{where}: 'keywords'")
            examples = _strings(raw.get("examples", []), source, f"{where}: 'examples'", allow_empty=True)
            themes.append(
                CodebookTheme(theme_id, " ".join(label.split()), " ".join(description.split()), keywords, examples)
            )
        return cls(tuple(themes), source=str(data.get("source", source)), sha256=str(data.get("sha256", "")))


def _strings(value: object, source: str, where: str, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(source, f"{where}은(는) 비어 있지 않은 문자열의 목록이어야 합니다")
    if not value and not allow_empty:
        raise InputError(source, f"{where}이(가) 비어 있으면 안 됩니다")
    return tuple(" ".join(v.split()) for v in value)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and validate a codebook YAML file (default: the bundled ``corpus/themes.yaml``).

    Returns a :class:`Codebook` whose ``sha256`` is the hash of the file's bytes. Raises
    ``InputError`` naming the file when it is missing, not YAML, or not a valid codebook.
    """
    path = Path(path) if path is not None else DEFAULT_CODEBOOK
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(str(path), f"코드북을 읽을 수 없습니다 ({err.strerror or err})") from err
    try:
        data = yaml.safe_load(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(str(path), f"코드북이 올바른 UTF-8 YAML이 아닙니다 ({reason})") from err
    book = Codebook.from_dict(data, source=str(path))
    return Codebook(book.themes, source=str(path), sha256=hashlib.sha256(raw).hexdigest())
