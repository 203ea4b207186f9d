"""``advisory codebook promote``: a run's new-theme candidate written into a codebook as a theme of its own.

The entry is made by :mod:`pipeline.themes.promote` from what the run folder holds of the candidate (its
card's keywords and most central units); the codebook it is added to is the run's own unless another is
given, and the result is written as one file (:func:`pipeline.core.atomic.write_file`).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.atomic import write_file
from pipeline.core.errors import InputError
from pipeline.runfolder.folder import load_run
from pipeline.themes.codebook import Codebook, CodebookTheme, load_codebook
from pipeline.themes.openset import is_new_theme
from pipeline.themes.promote import candidate_examples, candidate_theme, codebook_yaml, promote
from pipeline.themes.store import read_model_info


def promote_candidate(run: str | Path, theme_id: str, label: str, out: str | Path, *,
                      codebook: str | Path | None = None, new_id: str | None = None) -> CodebookTheme:
    """Write to ``out`` the run's codebook with its new-theme candidate ``theme_id`` added as a codebook theme
    labelled ``label`` (id ``new_id``, default the candidate's); out: the theme added.

    The theme's description and keywords come from the candidate's keywords and its examples are the
    candidate's representative units (:mod:`pipeline.themes.promote`); ``codebook`` is the file to add
    it to (default: the run's own codebook). Raises ``InputError`` when the run lacks the theme, the
    theme is not a candidate, or the id is already in the codebook; ``out`` is then not written.
    """
    folder = load_run(run)
    card = next((c for c in folder.theme_cards if c.theme_id == theme_id), None)
    candidates = [c.theme_id for c in folder.theme_cards if is_new_theme(c.theme_id, c.source)]
    if card is None or card.theme_id not in candidates:
        what = "주제가 없습니다" if card is None else f"새 주제 후보가 아닙니다 ({card.source})"
        raise InputError(str(Path(run) / "themes.csv"), f"{theme_id!r}: {what}; 이 결과 폴더의 새 주제 후보: "
                                                        f"{', '.join(candidates) or '(없음)'}")
    theme = candidate_theme(new_id or theme_id, label, card.keywords,
                            candidate_examples(theme_id, folder.units, folder.assignments))
    book = promote(run_codebook(folder.info, None if codebook is None else str(codebook)), theme)
    write_file(out, codebook_yaml(book).encode("utf-8"))
    return theme


def run_codebook(run_info: dict, path: str | None = None) -> Codebook:
    """The codebook a run was made with: ``path`` when given, else the file ``run.json`` (``run_info``)
    names, else for an ``assign`` run the saved model's, else the bundled one. ``InputError`` when the
    file or model cannot be read."""
    if path is not None:
        return load_codebook(path)
    params = run_info.get("parameters") or {}
    book = params.get("codebook") or {}
    if book.get("path"):
        return load_codebook(book["path"])
    if params.get("command") == "assign" and params.get("model"):
        info = read_model_info(Path(params["model"]))
        if info.get("codebook"):
            return Codebook.from_dict(info["codebook"], source=str(params["model"]))
    return load_codebook()
