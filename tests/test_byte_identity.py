"""The bundled round's run folders and saved model are byte-identical to those made before the restructuring.

The digests in ``fixtures/reference_digests.json`` come from the code before issue 12 (see
``tests/support/reference_digests.py``); a refactor that changes any output byte fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.core.options import RunOptions
from pipeline.workflow import run_round
from tests.support.reference_digests import digests

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "reference_digests.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("identity")
    run_round(None, out / "run", RunOptions(seed=0, use_cache=False), save_model=out / "model")
    run_round(None, out / "no_codebook", RunOptions(seed=0, use_cache=False), use_codebook=False)
    return out


@pytest.mark.parametrize("name", ["run", "no_codebook", "model"])
def test_outputs_match_the_reference_digests(outputs: Path, name: str) -> None:
    got = digests(outputs / name, outputs / "model")
    assert sorted(got) == sorted(REFERENCE[name])
    changed = [file for file, digest in REFERENCE[name].items() if got[file] != digest]
    assert changed == []
