"""report.html draws Hangul and ｢｣ on a machine with no Korean font: the embedded NanumGothic subset, seen in pixels.

Chromium runs under a fontconfig that knows only DejaVu (no Hangul), and the test compares
screenshots of glyphs, not the DOM. Each glyph is drawn three ways:

- **embedded**: in the report's own font (the ``@font-face`` the page carries), Latin-only machine;
- **tofu**: in the machine's fonts alone (``sans-serif``), Latin-only machine: boxes, the control that
  shows this check can see a missing font;
- **reference**: in the full NanumGothic installed as a system font, on a second browser.

Embedded must look like the reference and unlike tofu, and different syllables must look different
(boxes all look alike). ``｢｣``, which NanumGothic lacks, must look like its ``「」``. The report's real
text (a line under the matrix) is checked the same way. Saves the probes to tests/artifacts/report_fonts.png.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.runfolder.folder import write_run
from pipeline.runfolder.fonts import FAMILY
from pipeline.runfolder.plots import korean_font_path
from tests.support.browser import ARTIFACTS, DevTools, open_page
from tests.support.sample_run import sample_run

LATIN_FONTS = Path("/usr/share/fonts/truetype/dejavu")
HANGUL = "자문위원권고분석"
BRACKETS = {"｢": "「", "｣": "」"}
# Mean absolute grey-level difference (0..1) below which two renders count as the same picture, and
# above which as different ones. Measured with Chromium 156 on Debian 12: embedded vs reference 0.0000 for
# every probe (the subset keeps NanumGothic's hinting), Hangul vs tofu 0.07-0.12, ｢｣ vs tofu 0.026-0.033.
SAME = 0.01
DIFFERENT = 0.03


def fontconfig(tmp: Path, name: str, dirs: list[Path]) -> Path:
    """A fontconfig that knows only ``dirs``: no system configuration, so no other font on this machine."""
    conf = tmp / f"{name}.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        + "".join(f"  <dir>{d}</dir>\n" for d in dirs)
        + f"  <cachedir>{tmp / (name + '-cache')}</cachedir>\n</fontconfig>\n", encoding="utf-8")
    return conf


def _has_hangul_font(conf: Path) -> bool:
    """Whether fontconfig under ``conf`` lists a font covering Korean (False where fc-list is missing)."""
    if shutil.which("fc-list") is None:
        return False
    out = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True, check=True,
                         env={"FONTCONFIG_FILE": str(conf), "PATH": "/usr/bin:/bin"})
    return bool(out.stdout.strip())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("fonts")
    units, assignments, cards, run_info = sample_run()
    # A law name in halfwidth corner brackets, as Korean official documents write it.
    units[0] = replace(units[0], text=units[0].text + " ｢지방자치법｣ 개정 검토")
    return write_run(tmp / "run", units, assignments, cards, run_info) / "report.html"


@pytest.fixture(scope="module")
def latin_only(report: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    if not LATIN_FONTS.is_dir():
        pytest.skip(f"{LATIN_FONTS} missing: install fonts-dejavu-core")
    tmp = tmp_path_factory.mktemp("latin")
    conf = fontconfig(tmp, "latin", [LATIN_FONTS])
    assert not _has_hangul_font(conf), "the Latin-only fontconfig must not offer a Korean font"
    with open_page(report.as_uri(), conf, tmp) as page:
        yield page


@pytest.fixture(scope="module")
def with_nanum(report: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    tmp = tmp_path_factory.mktemp("nanum")
    with open_page(report.as_uri(), fontconfig(tmp, "nanum", [LATIN_FONTS, korean_font_path().parent]), tmp) as page:
        yield page


def _screenshot(page: DevTools, selector: str) -> np.ndarray:
    """Grey levels (0 black .. 1 white) of the element ``selector``, as Chromium paints it."""
    rect = page.js(f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect(); "
                   "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; })()")
    x, y, width, height = (round(v) for v in rect)
    shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                     clip={"x": x, "y": y, "width": width, "height": height, "scale": 1})
    grey = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("L")
    return np.asarray(grey, dtype=np.float64) / 255.0


def _probes(page: DevTools, chars: str, family: str) -> dict[str, np.ndarray]:
    """Each of ``chars`` drawn alone, 64 px, in CSS font-family ``family``, once the fonts have loaded."""
    page.js(f"""(async () => {{
      document.getElementById('probes')?.remove();
      const box = document.createElement('div');
      box.id = 'probes';
      box.style.cssText = 'position:absolute;left:0;top:0;z-index:9;background:#fff;color:#000;padding:8px';
      [...{json.dumps(chars)}].forEach((c, i) => {{
        const s = document.createElement('span');
        s.id = 'probe-' + i;
        s.textContent = c;
        s.style.cssText = 'display:inline-block;width:96px;height:96px;line-height:96px;text-align:center;' +
                          'font:64px ' + {json.dumps(family)};
        box.appendChild(s);
      }});
      document.body.appendChild(box);
      await document.fonts.ready;
    }})()""")
    return {c: _screenshot(page, f"#probe-{i}") for i, c in enumerate(chars)}


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).mean())


def _ink(a: np.ndarray) -> float:
    """Share of pixels noticeably darker than the white background."""
    return float((a < 0.5).mean())


def test_embedded_font_draws_hangul_without_a_korean_font(latin_only: DevTools, with_nanum: DevTools) -> None:
    chars = HANGUL + "".join(BRACKETS) + "".join(BRACKETS.values())
    embedded = _probes(latin_only, chars, f'"{FAMILY}"')
    tofu = _probes(latin_only, chars, "sans-serif")
    reference = _probes(with_nanum, chars, "NanumGothic")
    ARTIFACTS.mkdir(exist_ok=True)
    strip = np.vstack([np.hstack([views[c] for c in chars]) for views in (embedded, tofu, reference)])
    Image.fromarray((strip * 255).astype(np.uint8)).save(ARTIFACTS / "report_fonts.png")
    for c in HANGUL:
        # The control: this machine really has no Hangul (tofu is not the reference glyph).
        assert _diff(tofu[c], reference[c]) > DIFFERENT, c
        assert _ink(embedded[c]) > 0.02, c
        assert _diff(embedded[c], reference[c]) < SAME, c
        assert _diff(embedded[c], tofu[c]) > DIFFERENT, c
    # Real glyphs differ from one syllable to the next; missing-glyph boxes would all be alike.
    assert min(_diff(embedded[a], embedded[b]) for a, b in zip(HANGUL, HANGUL[1:], strict=False)) > DIFFERENT
    for narrow, wide in BRACKETS.items():
        assert _ink(embedded[narrow]) > 0.002, narrow
        assert _diff(embedded[narrow], reference[wide]) < SAME, narrow
        assert _diff(embedded[narrow], tofu[narrow]) > DIFFERENT / 3, narrow
    assert _diff(embedded["｢"], embedded["｣"]) > DIFFERENT / 3


# A line of the report's own regular-weight text (bold would be NanumGothicBold on the reference machine, and
# synthetic bold from the regular subset in the page).
REPORT_TEXT = "#matrix > p.muted"


def test_report_text_is_drawn_in_the_embedded_font(latin_only: DevTools, with_nanum: DevTools) -> None:
    for page in (latin_only, with_nanum):
        # Shrunk to its text, so the comparison is not diluted by the empty rest of the line.
        page.js("document.getElementById('probes')?.remove(); "
                f"document.querySelector({json.dumps(REPORT_TEXT)}).style.display = 'inline-block'")
    assert latin_only.js(f"document.fonts.check('16px \"{FAMILY}\"', '칸을 누르면')") is True
    as_served = _screenshot(latin_only, REPORT_TEXT)
    width = as_served.shape[1]
    reference = _with_family(with_nanum, REPORT_TEXT, "NanumGothic", width)
    tofu = _with_family(latin_only, REPORT_TEXT, "sans-serif", width)
    assert _diff(as_served, reference) < SAME
    assert _diff(as_served, tofu) > DIFFERENT


def _with_family(page: DevTools, selector: str, family: str, width: int) -> np.ndarray:
    """The element drawn in ``family`` instead of the page's fonts, ``width`` pixels wide."""
    page.js(f"(el => {{ el.style.fontFamily = {json.dumps(family)}; el.style.width = '{width}px'; }})"
            f"(document.querySelector({json.dumps(selector)}))")
    page.js("document.fonts.ready.then(() => true)")
    return _screenshot(page, selector)


def test_hangul_in_the_monospace_command_box_is_drawn_in_the_embedded_font(latin_only: DevTools,
                                                                           with_nanum: DevTools) -> None:
    """The rerun command (`<회차 파일>`) is set in a monospace font, which has no Hangul: the embedded font after it
    draws the Hangul, as NanumGothic does after the same monospace font on a machine that has it."""
    box = "#rerun-command"
    for page in (latin_only, with_nanum):
        page.js("document.getElementById('probes')?.remove(); "
                f"document.querySelector({json.dumps(box)}).style.display = 'inline-block'")
    as_served = _screenshot(latin_only, box)
    width = as_served.shape[1]
    reference = _with_family(with_nanum, box, '"DejaVu Sans Mono", NanumGothic', width)
    tofu = _with_family(latin_only, box, '"DejaVu Sans Mono"', width)
    assert _diff(as_served, reference) < SAME
    # Most of the line is Latin, drawn alike either way: the boxes differ from the glyphs on a few characters.
    assert _diff(as_served, tofu) > DIFFERENT / 3
