"""The archive's trend report (report.html) in headless Chromium, offline.

The archive is built from records (tests/support/sample_run.py's two rounds, 12 and 8 units, plus a
24-unit round), so no model is needed. Checks: no console errors or network requests, the round
filter hides a round's columns, a matrix cell lists exactly its units, small rounds carry the
caution, document markup is shown as text. Saves tests/artifacts/archive_report.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from pipeline.archive.store import ModelRef, StoredRound, store_round
from pipeline.archive.trends import write_trends
from pipeline.runfolder.fonts import FAMILY
from tests.support.browser import (
    DevTools,
    assert_loaded_offline,
    fontconfig,
    hangul_outside_font,
    open_page,
    save_screenshot,
)
from tests.support.sample_run import sample_run


def _round(name: str, variant: str, copies: int = 1) -> StoredRound:
    units, assignments, cards, _ = sample_run(variant)
    all_units, all_assignments = [], []
    for k in range(copies):
        all_units += [replace(u, rec_id=f"{u.rec_id}-{k}") for u in units]
        all_assignments += [replace(a, rec_id=f"{a.rec_id}-{k}") for a in assignments]
    model = ModelRef("models/test", "0" * 64, "test", "test-model",
                     tuple((t.theme_id, t.label) for t in sample_run("a")[2] + sample_run("b")[2]))
    return StoredRound(name, all_units, all_assignments, cards, model)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    tmp = tmp_path_factory.mktemp("archive_browser")
    archive = tmp / "rounds.duckdb"
    store_round(archive, _round("2024 자문", "a"))
    store_round(archive, _round("2025 자문", "b"))
    store_round(archive, _round("2026 자문", "b", copies=3))
    out = write_trends(archive, tmp / "trends")
    with open_page((out / "report.html").as_uri(), fontconfig(tmp), tmp) as client:
        yield client


def _visible_columns(page: DevTools) -> int:
    return int(page.js("document.querySelectorAll('#theme-matrix thead th[data-col]:not([hidden])').length"))


def _click(page: DevTools, theme: str, round_index: int) -> tuple[int, int, str]:
    page.js(f"document.querySelector('button.cell[data-theme=\"{theme}\"][data-round=\"{round_index}\"]').click()")
    listed = int(page.js("document.querySelectorAll('#unit-list li').length"))
    shown = int(page.js("document.getElementById('shown-count').textContent"))
    return listed, shown, str(page.js("document.getElementById('units-title').textContent"))


def test_loads_offline_without_errors(page: DevTools) -> None:
    assert page.js("document.documentElement.lang") == "ko"
    assert_loaded_offline(page)
    assert _visible_columns(page) == 3


def test_every_hangul_text_is_set_in_the_embedded_font(page: DevTools) -> None:
    """The round filter's buttons included: a control keeps the system font unless the page says otherwise, and
    on a machine without a Korean font its label was drawn as boxes."""
    _click(page, next(iter(page.js("[...document.querySelectorAll('button.cell')].map(b => b.dataset.theme)"))), 0)
    assert hangul_outside_font(page, FAMILY) == []


def test_cell_lists_its_units(page: DevTools) -> None:
    # 2026 자문 is round index 2: three copies of round b, whose sales_channels theme has 3 units
    assert _click(page, "sales_channels", 2) == (9, 9, "판로·유통 · 2026 자문 (9건)")
    assert page.js("document.querySelectorAll('td.active').length") == 1
    assert _click(page, "branding", 0) == (3, 3, "브랜딩·홍보·소통 · 2024 자문 (3건)")
    assert page.js("document.querySelector('#unit-list li .meta').textContent").startswith("위원 1 (○○○) · ❶")
    assert _click(page, "sales_channels", 0)[:2] == (0, 0)


def test_round_filter_hides_columns(page: DevTools) -> None:
    page.js("(() => { const b = document.querySelector('input.round-toggle[value=\"1\"]'); b.checked = false; "
            "b.dispatchEvent(new Event('change')); })()")
    assert _visible_columns(page) == 2
    assert page.js("document.querySelector('#theme-matrix td[data-col=\"1\"]').hidden") is True
    assert page.js("document.querySelector('#program-matrix td[data-col=\"1\"]').hidden") is True
    page.js("document.getElementById('rounds-none').click()")
    assert _visible_columns(page) == 0
    page.js("document.getElementById('rounds-all').click()")
    assert _visible_columns(page) == 3


def test_small_rounds_carry_a_caution(page: DevTools) -> None:
    heads = page.js("[...document.querySelectorAll('#theme-matrix thead th[data-col]')]"
                    ".map(th => th.querySelector('.caution') !== null)")
    assert heads == [True, True, False]  # 12 and 8 units are under 20; 24 are not
    note = page.js("document.getElementById('small-note').textContent")
    assert "20건 미만" in note and "2024 자문" in note and "2026 자문" not in note
    cell = page.js("document.querySelector('button.cell[data-theme=\"branding\"][data-round=\"0\"]').textContent")
    assert cell == "325.0%※"
    assert page.js("document.querySelector('#theme-matrix thead th[data-col=\"0\"]').innerText") == "2024 자문\nn=12 ※"


def test_markup_in_documents_is_shown_as_text(page: DevTools) -> None:
    _click(page, "performance_evaluation", 0)
    assert "<script>alert('x')</script>" in page.js("document.getElementById('unit-list').innerText")
    assert not [e for e in page.events if e.get("method") == "Page.javascriptDialogOpening"]


def test_screenshot(page: DevTools) -> None:
    assert save_screenshot(page, "archive_report.png").startswith(b"\x89PNG")
