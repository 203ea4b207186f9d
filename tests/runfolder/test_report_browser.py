"""report.html in a real browser: headless Chromium driven over the DevTools protocol, offline.

Checks that the page loads without console errors or network requests, that the member
filter, the search box, the 검토 필요 filter and matrix cells (the ``(코드 없음)`` column included) change
the visible units, that each unit shows its score and runner-up and can be moved to any theme of the
model (a codebook theme without units included) or to a new one, that the
changes download as corrections.csv from file://, and that document text containing markup
is shown as text. Saves a screenshot to tests/artifacts/report.png.

Needs /usr/bin/chromium (Debian package ``chromium``) and the ``websocket-client`` package.
Without them the test fails when ``CI`` is set and is skipped otherwise. Hangul renders
through the NanumGothic font bundled with koreanize-matplotlib, handed to Chromium via a
private fontconfig file, so no system Korean font package is needed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.core.records import Assignment, ThemeInfo
from pipeline.runfolder.folder import write_run
from pipeline.runfolder.fonts import FAMILY
from tests.support.browser import (  # noqa: F401
    ARTIFACTS,
    DevTools,
    assert_loaded_offline,
    download,
    fontconfig,
    hangul_outside_font,
    open_page,
    save_screenshot,
)
from tests.support.sample_run import sample_run


def _sample_with_confidence() -> tuple[list, list[Assignment], list, dict]:
    """The sample round with a runner-up, a margin and a review flag on some units, as the theme step gives them."""
    units, assignments, cards, run_info = sample_run()
    extra = {0: ("branding", 0.0312, True), 4: ("living_population", 0.2544, False)}
    assignments = [replace(a, theme_runner_up=extra[i][0], theme_margin=extra[i][1], needs_review=extra[i][2])
                   if i in extra else a for i, a in enumerate(assignments)]
    return units, assignments, cards, run_info


#: The model's themes in its order: the sample's four, with a codebook theme that took no unit among them.
MODEL_THEMES = [ThemeInfo("branding", "브랜딩·홍보·소통", "codebook"),
                ThemeInfo("governance_finance", "거버넌스·재원", "codebook"),
                ThemeInfo("living_population", "생활인구·체류", "codebook"),
                ThemeInfo("nextlocal_roles", "넥스트로컬 협력체계·역할분담", "codebook"),
                ThemeInfo("performance_evaluation", "성과평가·지표", "codebook")]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    tmp = tmp_path_factory.mktemp("browser")
    run = write_run(tmp / "run", *_sample_with_confidence(), MODEL_THEMES)
    with open_page((run / "report.html").as_uri(), fontconfig(tmp), tmp) as client:
        yield client


def _shown(page: DevTools) -> tuple[int, int]:
    """(units visible in the list, the count the page displays)."""
    visible = page.js("document.querySelectorAll('#unit-list li:not([hidden])').length")
    label = page.js("document.getElementById('shown-count').textContent")
    return int(visible), int(label)


def _select(page: DevTools, element_id: str, value: str) -> None:
    page.js(f"(() => {{ const el = document.getElementById({json.dumps(element_id)}); "
            f"el.value = {json.dumps(value)}; el.dispatchEvent(new Event('change')); }})()")


def _reset(page: DevTools) -> None:
    page.js("document.getElementById('f-reset').click()")


def test_loads_offline_without_errors(page: DevTools) -> None:
    assert page.js("document.documentElement.lang") == "ko"
    assert_loaded_offline(page)
    assert _shown(page) == (12, 12)
    assert page.js("document.querySelectorAll('.card').length") == 4


def test_member_filter_changes_visible_units(page: DevTools) -> None:
    _reset(page)
    _select(page, "f-member", "위원 1 (○○○)")
    assert _shown(page) == (4, 4)
    _select(page, "f-member", "위원 3 (김상생)")
    assert _shown(page) == (3, 3)
    _select(page, "f-agenda", "❷ ’24년 지역연계형 청년 창업 지원사업(넥스트로컬)")
    assert _shown(page) == (2, 2)
    _reset(page)
    assert _shown(page) == (12, 12)


def test_search_box_filters_as_you_type(page: DevTools) -> None:
    _reset(page)
    page.js("document.getElementById('f-search').focus()")
    page.call("Input.insertText", text="상생상회")
    assert _shown(page) == (3, 3)
    page.call("Input.insertText", text=" 팝업")
    assert _shown(page) == (1, 1)
    _reset(page)


def test_matrix_cell_click_filters_theme_and_program(page: DevTools) -> None:
    _reset(page)
    page.js("document.querySelector('button.cell[data-theme=\"branding\"][data-code=\"3-3-1\"]').click()")
    assert _shown(page) == (2, 2)
    assert page.js("document.getElementById('f-program').value") == "3-3-1"
    assert page.js("document.querySelectorAll('.matrix td.active').length") == 1
    _reset(page)


def test_no_code_cell_click_filters_units_citing_no_code(page: DevTools) -> None:
    _reset(page)
    page.js("document.querySelector('button.cell[data-theme=\"branding\"][data-code=\"__none__\"]').click()")
    assert _shown(page) == (1, 1)
    assert page.js("document.querySelector('#unit-list li:not([hidden])').dataset.recId") == "2024_자문-003"
    assert page.js("document.querySelectorAll('.matrix td.active').length") == 1
    _reset(page)


def _unit(page: DevTools, rec_id: str, what: str) -> object:
    """Evaluate ``what`` (an expression over ``li``) for the list item of ``rec_id``."""
    return page.js(f"(() => {{ const li = document.querySelector('#unit-list li[data-rec-id={json.dumps(rec_id)}]'); "
                   f"return {what}; }})()")


def test_each_unit_shows_score_and_runner_up(page: DevTools) -> None:
    conf = "li.querySelector('span.conf').textContent"
    assert _unit(page, "2024_자문-001", conf) == "점수 0.81 · 차순위 브랜딩·홍보·소통 (차이 0.03)"
    assert _unit(page, "2024_자문-005", conf) == "점수 0.90 · 차순위 생활인구·체류 (차이 0.25)"
    # The model gave no runner-up here; the unit without any assignment has no score either.
    assert _unit(page, "2024_자문-003", conf) == "점수 0.66 · 차순위 — (차이 —)"
    assert _unit(page, "2024_자문-007", conf) == "점수 — · 차순위 — (차이 —)"
    assert _unit(page, "2024_자문-001", "li.querySelector('.badge-review').textContent") == "검토 필요"


def test_review_filter_shows_flagged_units_only(page: DevTools) -> None:
    _reset(page)
    page.js("document.getElementById('f-review').click()")
    assert _shown(page) == (1, 1)
    assert page.js("document.querySelector('#unit-list li:not([hidden])').dataset.recId") == "2024_자문-001"
    _reset(page)
    assert _shown(page) == (12, 12)


def test_theme_select_offers_every_theme_of_the_model(page: DevTools) -> None:
    options = _unit(page, "2024_자문-003",
                    "[...li.querySelectorAll('select.theme-select option')].map(o => [o.value, o.textContent])")
    assert options == [["branding", "브랜딩·홍보·소통"], ["governance_finance", "거버넌스·재원"],
                       ["living_population", "생활인구·체류"],
                       ["nextlocal_roles", "넥스트로컬 협력체계·역할분담"], ["performance_evaluation", "성과평가·지표"],
                       ["__new__", "새 주제…"], ["unassigned", "미분류"]]
    assert _unit(page, "2024_자문-003", "li.querySelector('select.theme-select').value") == "branding"
    assert _unit(page, "2024_자문-007", "li.querySelector('select.theme-select').value") == "unassigned"


def _move(page: DevTools, rec_id: str, theme_id: str) -> None:
    _unit(page, rec_id, f"(s => {{ s.value = {json.dumps(theme_id)}; s.dispatchEvent(new Event('change', "
                        "{bubbles: true})); })(li.querySelector('select.theme-select'))")


def test_changed_units_download_as_corrections_csv(page: DevTools, tmp_path: Path) -> None:
    assert page.js("document.getElementById('download-corrections').disabled") is True
    _move(page, "2024_자문-003", "living_population")
    _move(page, "2024_자문-007", "performance_evaluation")
    _move(page, "2024_자문-009", "branding")
    _move(page, "2024_자문-009", "living_population")  # back to the model's theme: no longer a change
    assert page.js("document.getElementById('changed-count').textContent") == "2"
    assert page.js("document.querySelectorAll('#unit-list li.changed').length") == 2
    saved = download(page, "document.getElementById('download-corrections')", tmp_path, "corrections.csv")
    raw = saved.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [(r["rec_id"], r["theme_id"]) for r in rows] == [
        ("2024_자문-003", "living_population"), ("2024_자문-007", "performance_evaluation")]
    assert rows[0]["note"] == "보고서에서 수정: branding → living_population"
    _move(page, "2024_자문-003", "branding")
    _move(page, "2024_자문-007", "unassigned")
    assert page.js("document.getElementById('download-corrections').disabled") is True


def test_every_hangul_text_is_set_in_the_embedded_font(page: DevTools) -> None:
    """Filters, theme menus and the new-theme form included (hidden ones too): a form control keeps the system
    font unless the page says otherwise, and on a machine without a Korean font its Hangul is drawn as boxes."""
    assert page.js("document.querySelectorAll('select.theme-select, input.new-theme-label').length") > 0
    assert hangul_outside_font(page, FAMILY) == []


def test_markup_in_documents_is_shown_as_text(page: DevTools) -> None:
    assert "<script>alert('x')</script>" in page.js("document.getElementById('unit-list').innerText")
    assert not [e for e in page.events if e.get("method") == "Page.javascriptDialogOpening"]


def test_screenshot(page: DevTools) -> None:
    _reset(page)
    assert save_screenshot(page, "report.png").startswith(b"\x89PNG")
