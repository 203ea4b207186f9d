"""Headless Chromium over the DevTools protocol, offline, for the report tests.

Needs /usr/bin/chromium (Debian package ``chromium``) and the ``websocket-client`` package. Without
them a browser test fails when ``CI`` is set and is skipped otherwise. Hangul renders through the
NanumGothic font bundled with koreanize-matplotlib, handed to Chromium via a private fontconfig file
(``fontconfig``), so no system Korean font package is needed.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.runfolder.plots import korean_font_path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
STARTUP_SECONDS = 30.0
# A loaded 2-core CI machine took more than 15 s to fire a report page's load event.
CALL_SECONDS = 60.0


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


def fontconfig(tmp: Path) -> Path:
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


# Every element that shows Hangul (its own text, or an input's value or placeholder) whose computed fonts do
# not include the page's embedded family, where a glyph no earlier font has is looked up: [tag, text,
# font-family]. Form controls (button, select, input) and <pre> (monospace) do not take the page's fonts unless
# the CSS says so, and on a machine without a Korean font their Hangul is drawn as boxes.
_HANGUL_FONTS_JS = """(family => {
  const hangul = /[\\uac00-\\ud7a3]/, skip = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT']);
  const families = el => getComputedStyle(el).fontFamily.split(',').map(f => f.trim().replace(/^["']|["']$/g, ''));
  const shown = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (hangul.test(walker.currentNode.nodeValue) && !skip.has(el.tagName)) shown.push([el, walker.currentNode.nodeValue]);
  }
  document.querySelectorAll('input, textarea').forEach(el => {
    const text = (el.value || '') + (el.placeholder || '');
    if (hangul.test(text)) shown.push([el, text]);
  });
  return shown.filter(([el]) => !families(el).includes(family))
              .map(([el, text]) => [el.tagName, text.trim().slice(0, 30), getComputedStyle(el).fontFamily]);
})"""


def hangul_outside_font(page: DevTools, family: str) -> list[list[str]]:
    """The page's Hangul text whose fonts do not include ``family`` (the report's embedded font): [tag, text,
    font-family]."""
    return page.js(f"{_HANGUL_FONTS_JS}({json.dumps(family)})")
