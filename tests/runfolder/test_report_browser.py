"""report.html in a real browser: headless Chromium driven over the DevTools protocol, offline.

Checks that the page loads without console errors or network requests, that the member
filter, the search box, the 검토 필요 filter and matrix cells (the ``(코드 없음)`` column included) change
the visible units, that each unit shows its score and runner-up and can be moved to any theme of the
model (a codebook theme without units included), that the
changes download as corrections.csv from file://, and that document text containing markup
is shown as text. Saves a screenshot to tests/artifacts/report.png.

Needs /usr/bin/chromium (Debian package ``chromium``) and the ``websocket-client`` package.
Without them the test fails when ``CI`` is set and is skipped otherwise. Hangul renders
through the NanumGothic font bundled with koreanize-matplotlib, handed to Chromium via a
private fontconfig file, so no system Korean font package is needed.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.core.records import Assignment, ThemeInfo
from pipeline.runfolder.folder import write_run
from pipeline.runfolder.plots import korean_font_path
from tests.support.sample_run import sample_run

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
STARTUP_SECONDS = 30.0
CALL_SECONDS = 15.0


def _unavailable(reason: str) -> None:
    """Fail on CI, where the browser check must run; skip on a developer machine without Chromium."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser check cannot be skipped)")
    pytest.skip(reason)


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    _unavailable("Chromium not found: install the Debian package `chromium` (apt-get install -y chromium)")
    raise AssertionError("unreachable")


class DevTools:
    """A minimal DevTools-protocol client for one page: commands, and the events seen so far."""

    def __init__(self, ws_url: str) -> None:
        try:
            import websocket
        except ImportError:
            _unavailable("the `websocket-client` package is needed to drive Chromium (pip install websocket-client)")
        self._ws = websocket.create_connection(ws_url, timeout=CALL_SECONDS, suppress_origin=True)
        self._ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, **params: object) -> dict:
        """Send a command and wait for its reply, keeping the events that arrive meanwhile."""
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str) -> dict:
        """Wait for an event (already seen or arriving), e.g. ``Page.loadEventFired``."""
        deadline = time.monotonic() + CALL_SECONDS
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} event")
            self.events.append(json.loads(self._ws.recv()))

    def js(self, expression: str) -> object:
        """Evaluate ``expression`` in the page and return its value; a thrown exception fails the test."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        self._ws.close()


def _fontconfig(tmp: Path) -> Path:
    """A fontconfig file that adds the bundled Korean font to the system configuration."""
    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{korean_font_path().parent}</dir>\n"
        f"  <cachedir>{tmp / 'fontcache'}</cachedir>\n"
        "</fontconfig>\n", encoding="utf-8")
    return conf


@contextlib.contextmanager
def open_page(url: str, fontconfig: Path, tmp: Path) -> Iterator[DevTools]:
    """Headless Chromium showing ``url`` with fonts from ``fontconfig``; yields its DevTools client once loaded."""
    binary = _chromium()
    profile = tmp / "profile"
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig)}
    proc = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,900",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-allow-origins=*",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    client = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chromium did not start (exit status {proc.poll()})")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=CALL_SECONDS) as reply:
            targets = json.load(reply)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        client = DevTools(ws_url)
        for domain in ("Page", "Runtime", "Log", "Network"):
            client.call(f"{domain}.enable")
        client.call("Page.navigate", url=url)
        client.wait_for("Page.loadEventFired")
        yield client
    finally:
        if client is not None:
            client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def save_screenshot(page: DevTools, name: str) -> bytes:
    """The top of the page (up to 4,000 px) as PNG bytes, also saved as ``tests/artifacts/NAME`` to look at."""
    page.js("window.scrollTo(0, 0)")
    height = int(page.js("Math.min(document.documentElement.scrollHeight, 4000)"))
    shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                     clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1})
    ARTIFACTS.mkdir(exist_ok=True)
    png = base64.b64decode(shot["data"])
    (ARTIFACTS / name).write_bytes(png)
    return png


def assert_loaded_offline(page: DevTools) -> None:
    """The page threw no error, logged none, and fetched nothing but itself (file:, data:, about: URLs)."""
    errors = [e for e in page.events if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert errors == []
    requested = [e["params"]["request"]["url"] for e in page.events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url.startswith(("file:", "data:", "about:")) for url in requested), requested


def download(page: DevTools, button_js: str, folder: Path, name: str) -> Path:
    """Click a download button (``button_js`` evaluates to it) and return the saved file once it is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    page.call("Page.setDownloadBehavior", behavior="allow", downloadPath=str(folder))
    page.js(f"({button_js}).click()")
    target = folder / name
    deadline = time.monotonic() + CALL_SECONDS
    # Chromium writes to a .crdownload file and renames it when the download is complete.
    while not target.is_file() or list(folder.glob("*.crdownload")):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} was not downloaded into {folder}: {sorted(folder.iterdir())}")
        time.sleep(0.05)
    return target


def _sample_with_confidence() -> tuple[list, list[Assignment], list, dict]:
    """The sample round with a runner-up, a margin and a review flag on some units, as the theme step gives them."""
    units, assignments, themes, run_info = sample_run()
    extra = {0: ("branding", 0.0312, True), 4: ("living_population", 0.2544, False)}
    assignments = [replace(a, theme_runner_up=extra[i][0], theme_margin=extra[i][1], needs_review=extra[i][2])
                   if i in extra else a for i, a in enumerate(assignments)]
    return units, assignments, themes, run_info


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
    with open_page((run / "report.html").as_uri(), _fontconfig(tmp), tmp) as client:
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
                       ["unassigned", "미분류"]]
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


def test_markup_in_documents_is_shown_as_text(page: DevTools) -> None:
    assert "<script>alert('x')</script>" in page.js("document.getElementById('unit-list').innerText")
    assert not [e for e in page.events if e.get("method") == "Page.javascriptDialogOpening"]


def test_screenshot(page: DevTools) -> None:
    _reset(page)
    assert save_screenshot(page, "report.png").startswith(b"\x89PNG")
