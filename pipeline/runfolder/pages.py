"""The one HTML stack of the offline pages (a run's ``report.html``, the archive's trend report).

A page is a jinja2 template of its package's ``templates/`` folder, autoescaped, so every value from the
documents reaches the page as text, never as markup. It has no external resources (no CDN or images): its
styles and script are the template folder's ``<page>.css`` and ``<page>.js`` inlined, its data is JSON in a
``<script>`` element that no document text can close, and it carries a subset of NanumGothic with exactly
its own characters (:mod:`pipeline.runfolder.fonts`), so Hangul renders on a machine without a Korean font.
The same context gives the same string.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup

from pipeline.runfolder.fonts import font_face_css


@cache
def _environment(package: str) -> jinja2.Environment:
    # Autoescaping everywhere: every value from the documents reaches the page as text, never as markup.
    return jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def embedded_json(payload: object) -> Markup:
    """``payload`` as JSON that cannot end its ``<script>`` element early, whatever the document text contains."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def render_page(package: str, page: str, context: dict) -> str:
    """The page ``templates/<page>.html.j2`` of ``package`` rendered with ``context``, its ``<page>.css`` and
    ``<page>.js`` inline (``css``, ``js``) and the font subset of its characters (``font_css``)."""
    folder = resources.files(package) / "templates"
    context = {**context, "css": Markup((folder / f"{page}.css").read_text(encoding="utf-8")),
               "js": Markup((folder / f"{page}.js").read_text(encoding="utf-8"))}
    template = _environment(package).get_template(f"{page}.html.j2")
    # The font is cut to the page's own characters, so the page is rendered once without it to learn them.
    text = template.render(context, font_css="")
    return template.render(context, font_css=Markup(font_face_css(set(text))))
