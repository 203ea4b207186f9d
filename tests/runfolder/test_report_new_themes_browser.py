"""report.html's "이번 회차의 새 주제" section in a real browser (headless Chromium, offline).

A round of the sample run in which three units form a new-theme candidate: the section lists it with
its keywords, members, programs and quotes, its "show" button filters the unit list to its units,
and it offers the codebook entry the candidate would become as YAML, which parses into a valid
codebook theme and is copied to the clipboard by its button. A round without candidates says so.
Saves a screenshot to tests/artifacts/report_new_themes.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pandas as pd
import pytest
import yaml

from pipeline.core.records import ThemeInfo
from pipeline.runfolder.cards import theme_cards
from pipeline.runfolder.folder import write_run
from pipeline.runfolder.report import render_summary_md
from pipeline.themes.codebook import Codebook
from tests.support.browser import DevTools, assert_loaded_offline, fontconfig, open_page, save_screenshot
from tests.support.sample_run import sample_run

CANDIDATE = ThemeInfo("new_theme_01", "새 주제 후보: 상생상회·지표·팝업", "discovered", ("상생상회", "지표", "팝업"))
#: Units of the sample round that the candidate takes (rec_ids), the first the most central.
MEMBERS = {"2024_자문-010": 0.71, "2024_자문-002": 0.64, "2024_자문-005": 0.52}


def _round_with_candidate():
    units, assignments, _, run_info = sample_run()
    assignments = [replace(a, theme_id=CANDIDATE.theme_id, theme_label=CANDIDATE.label, theme_source="discovered",
                           theme_score=MEMBERS[a.rec_id], theme_runner_up="branding", theme_margin=None,
                           needs_review=True) if a.rec_id in MEMBERS else a for a in assignments]
    infos = [ThemeInfo(t.theme_id, t.label, t.source, t.keywords) for t in sample_run()[2]] + [CANDIDATE]
    return units, assignments, theme_cards(units, assignments, infos), run_info, infos


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    tmp = tmp_path_factory.mktemp("new_themes_browser")
    run = write_run(tmp / "run", *_round_with_candidate())
    with open_page((run / "report.html").as_uri(), fontconfig(tmp), tmp) as client:
        client.call("Browser.grantPermissions", permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
        client.call("Emulation.setFocusEmulationEnabled", enabled=True)
        yield client


def test_the_section_lists_the_candidate_with_who_raised_it_and_which_programs(page: DevTools) -> None:
    assert_loaded_offline(page)
    card = "document.querySelector('#new-themes article.candidate')"
    assert page.js("document.querySelectorAll('#new-themes article.candidate').length") == 1
    assert page.js(f"{card}.querySelector('h3').textContent").startswith("새 주제 후보: 상생상회·지표·팝업")
    chips = page.js(f"Array.from({card}.querySelectorAll('.chip')).map(c => c.textContent)")
    assert {"상생상회", "지표", "팝업"} <= set(chips)
    assert any(c.startswith("위원 3 (김상생)") for c in chips) and any(c.startswith("3-3-1") for c in chips)
    quotes = page.js(f"Array.from({card}.querySelectorAll('blockquote footer')).map(f => f.textContent)")
    assert [q.split(" · ")[-1] for q in quotes] == list(MEMBERS)
    facts = page.js("Array.from(document.querySelectorAll('.facts div')).map(d => d.textContent)")
    assert "새 주제 후보1개 (권고 3건)" in facts
    save_screenshot(page, "report_new_themes.png")


def test_show_button_lists_the_candidates_units(page: DevTools) -> None:
    page.js("document.querySelector('#new-themes button.show-theme').click()")
    shown = page.js("Array.from(document.querySelectorAll('#unit-list li:not([hidden])')).map(li => li.dataset.recId)")
    assert sorted(shown) == sorted(MEMBERS)
    page.js("document.getElementById('f-reset').click()")


def test_yaml_snippet_is_the_codebook_entry_and_copies(page: DevTools) -> None:
    page.js("document.querySelector('#new-themes details.promote').open = true")
    snippet = page.js("document.getElementById('yaml-new_theme_01').textContent")
    theme = Codebook.from_dict({"themes": yaml.safe_load(snippet)}).themes[0]
    texts = {u.rec_id: u.text for u in sample_run()[0]}
    assert (theme.theme_id, theme.label) == ("new_theme_01", "상생상회·지표·팝업")
    assert theme.keywords == ("상생상회", "지표", "팝업")
    assert list(theme.examples) == [" ".join(texts[r].split()) for r in MEMBERS]
    command = page.js("document.querySelector('#new-themes details.promote code').textContent")
    assert command.startswith("advisory codebook promote") and "new_theme_01" in command
    page.js("document.querySelector('#new-themes button.copy-yaml').click()")
    page.js("new Promise(r => setTimeout(r, 300))")
    assert page.js("document.querySelector('#new-themes .copy-status').textContent") == "복사했습니다"
    copied = page.call("Runtime.evaluate", expression="navigator.clipboard.readText()", awaitPromise=True)
    assert copied["result"].get("value") == snippet


def test_a_round_without_candidates_says_so() -> None:
    units, assignments, cards, run_info = sample_run()
    summary = render_summary_md(units, assignments, cards, pd.DataFrame(), run_info)
    assert "## 이번 회차의 새 주제\n\n코드북에 없는 새 주제 후보가 없습니다: 모든 권고가" in summary
    without = [replace(t, source="discovered") for t in cards]
    summary = render_summary_md(units, assignments, without, pd.DataFrame(), run_info)
    assert "## 이번 회차의 새 주제\n\n코드북 없이 분석한 결과입니다" in summary
