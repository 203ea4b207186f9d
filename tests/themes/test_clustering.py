"""AutoKMeans' choice of k: the criterion discovery uses to decide how many themes a round has."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score

from pipeline.themes.clustering import AutoKMeans


def blobs(n_blobs: int, per_blob: int, spread: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around ``n_blobs`` far-apart centres in 5 dimensions, and each point's blob."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_blobs, 5)) * 20
    x = np.vstack([c + spread * rng.normal(size=(per_blob, 5)) for c in centres])
    return x, np.repeat(np.arange(n_blobs), per_blob)


@pytest.mark.parametrize("criterion", ["davies_bouldin", "silhouette"])
def test_recovers_well_separated_clusters(criterion):
    # 48 points: the candidates are 5..9, so k = 6 has to be chosen, not just allowed.
    x, truth = blobs(6, 8)
    km = AutoKMeans(criterion=criterion, random_state=3).fit(x)
    assert km.n_clusters_ == 6
    assert adjusted_rand_score(truth, km.labels_) == 1.0


def test_default_criterion_is_davies_bouldin_and_score_is_its_value():
    x, _ = blobs(6, 8)
    km = AutoKMeans(random_state=0).fit(x)
    assert km.criterion == "davies_bouldin"
    assert km.score_ == pytest.approx(davies_bouldin_score(x, km.labels_))
    by_silhouette = AutoKMeans(criterion="silhouette", random_state=0).fit(x)
    assert by_silhouette.score_ == pytest.approx(silhouette_score(x, by_silhouette.labels_))


def test_same_seed_same_partition_and_k():
    # Overlapping blobs, so k and the partition genuinely depend on the k-means starts.
    x, _ = blobs(7, 9, spread=8.0, seed=1)
    first = AutoKMeans(random_state=5).fit(x)
    again = AutoKMeans(random_state=5).fit(x)
    np.testing.assert_array_equal(first.labels_, again.labels_)
    assert (first.n_clusters_, first.score_) == (again.n_clusters_, again.score_)


def test_unknown_criterion_is_an_error():
    x, _ = blobs(6, 8)
    with pytest.raises(ValueError, match="criterion"):
        AutoKMeans(criterion="inertia").fit(x)
