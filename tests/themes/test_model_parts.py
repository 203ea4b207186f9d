"""The theme model's parts: the codebook scorer, the discoverer with swappable sub-models, and what a
codebook run leaves unimported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD

from pipeline.features.embedders import make_embedder, unit_passages
from pipeline.themes.clustering import AutoKMeans
from pipeline.themes.codebook import load_codebook
from pipeline.themes.discovery import ThemeDiscoverer
from pipeline.themes.model import ThemeModel
from pipeline.themes.scorer import CodebookScorer

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"


@pytest.fixture(scope="module")
def codebook_model(units):
    embedder = make_embedder("tfidf").fit(unit_passages(units))
    return ThemeModel(embedder, load_codebook(), seed=0, lexical_weight=0.4).fit(units)


def test_sub_models_take_the_theme_models_parameters(codebook_model):
    assert isinstance(codebook_model.scorer_, CodebookScorer)
    assert codebook_model.scorer_.lexical_weight == 0.4
    assert isinstance(codebook_model.discoverer_, ThemeDiscoverer)
    assert codebook_model.discoverer_.min_theme_size == codebook_model.min_theme_size
    # Every sub-model parameter the theme model has is one of its own, under the same name.
    own = set(ThemeModel._get_param_names())
    assert set(CodebookScorer._get_param_names()) <= own
    assert set(ThemeDiscoverer._get_param_names()) - own == {"vectorizer"}


def test_scorer_state_round_trip_scores_the_same(codebook_model, units):
    terms = codebook_model.tokenize(units)
    embeddings = codebook_model.embed(units)
    state, arrays = codebook_model.scorer_.to_state()
    loaded = CodebookScorer.from_state(json.loads(json.dumps(state)), arrays,
                                       **codebook_model.scorer_.get_params(deep=False))
    fitted = codebook_model.scorer_.predict(terms.keyword, embeddings, codebook_model.center_)
    again = loaded.predict(terms.keyword, embeddings, codebook_model.center_)
    for a, b in zip(fitted, again, strict=True):
        np.testing.assert_array_equal(a, b)


class _RecordingSVD(TruncatedSVD):
    """A reducer that records the inputs it was fitted on (class-level: the discoverer fits a clone)."""

    fitted_shapes: list[tuple[int, int]] = []

    def fit_transform(self, X, y=None):
        _RecordingSVD.fitted_shapes.append(X.shape)
        return super().fit_transform(X, y)


def test_reducer_and_clusterer_are_swappable_and_left_unfitted(units):
    _RecordingSVD.fitted_shapes.clear()
    reducer = _RecordingSVD(n_components=4, random_state=0)
    clusterer = AutoKMeans(n_clusters=3, random_state=0)
    model = ThemeModel(None, None, seed=0, reducer=reducer, clusterer=clusterer).fit(units)
    assert _RecordingSVD.fitted_shapes and _RecordingSVD.fitted_shapes[0][0] == len(units)
    assert [t.source for t in model.themes_] == ["discovered"] * 3
    assert not hasattr(clusterer, "labels_") and not hasattr(reducer, "components_")
    assert model.discoverer_.score_ is None  # a fixed k is not chosen by a criterion
    # The saved parameters are values only: the sub-model objects are not part of a model's state.
    assert {"reducer", "clusterer"}.isdisjoint(model.to_state()[0]["params"])


_IMPORTED = """
import json, sys
from pipeline.core.options import RunOptions
from pipeline.workflow import run_round
# tfidf: which embedder does not matter to what the theme stages import, and it takes a second, not twenty.
run_round(None, sys.argv[1], RunOptions(embedder="tfidf", seed=0, use_cache=False), use_codebook=sys.argv[2] == "codebook")
print(json.dumps({name: name in sys.modules for name in ("umap", "bertopic", "hdbscan")}))
"""


def _heavy_imports(tmp_path: Path, mode: str) -> dict[str, bool]:
    """Which heavy packages a fresh process has imported after a run of the bundled round in ``mode``."""
    done = subprocess.run([sys.executable, "-c", _IMPORTED, str(tmp_path / mode), mode], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=900)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_codebook_run_imports_neither_bertopic_nor_umap(tmp_path):
    assert _heavy_imports(tmp_path, "codebook") == {"umap": False, "bertopic": False, "hdbscan": False}


def test_a_discovery_run_imports_umap(tmp_path):
    """The check above can fail: discovery does load UMAP and BERTopic."""
    imported = _heavy_imports(tmp_path, "discovery")
    assert imported["umap"] and imported["bertopic"]


