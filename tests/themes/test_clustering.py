"""Clustering: AutoKMeans' choice of k (how many themes a round has), the lexical space and the NMF view."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score

from pipeline.themes.clustering import AutoKMeans, LexicalSpace, NMFView


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


def test_lexical_space_matches_sklearn_and_round_trips():
    docs = [["판로", "유통", "판로"], ["성과", "지표"], ["판로", "성과", "청년"], []]
    space = LexicalSpace().fit(docs)
    reference = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True).fit(docs)
    ours = space.transform(docs).toarray()
    theirs = reference.transform(docs).toarray()[:, np.argsort(reference.get_feature_names_out())]
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    again = LexicalSpace.from_state(*space.get_state())
    np.testing.assert_array_equal(again.transform([["판로", "모르는말"]]).toarray(),
                                  space.transform([["판로", "모르는말"]]).toarray())


def test_autokmeans_candidates_follow_the_rule():
    km = AutoKMeans()
    assert km.candidate_ks(52) == [6, 7, 8, 9, 10]
    assert km.candidate_ks(8) == [1]
    assert km.candidate_ks(100_000) == [50]
    assert len(km.candidate_ks(2_000)) <= 12
    assert AutoKMeans(n_clusters=4).candidate_ks(3) == [3]
    with pytest.raises(ValueError):
        AutoKMeans(n_clusters=0).candidate_ks(10)


def test_autokmeans_finds_separated_blobs_and_scales():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(7, 5)) * 20
    x = np.vstack([c + rng.normal(size=(10, 5)) for c in centers])  # n=70: candidates 6..14
    km = AutoKMeans(random_state=0).fit(x)
    assert km.n_clusters_ == 7
    np.testing.assert_array_equal(km.predict(x), km.labels_)
    # Mini-batch k-means and the Davies-Bouldin choice of k keep 30k points cheap (no pairwise matrix).
    big = np.vstack([c + rng.normal(size=(4_300, 5)) for c in centers])
    fitted = AutoKMeans(minibatch_above=10_000, random_state=0).fit(big)
    assert fitted.labels_.shape == (len(big),) and 2 <= fitted.n_clusters_ <= 50


def test_nmf_view_gives_one_topic_per_unit():
    docs = [["판로", "유통"], ["판로", "시장"], ["성과", "지표"], ["성과", "평가"], []]
    labels = NMFView(2, random_state=0).fit_predict(docs)
    assert len(labels) == 5 and labels[-1] == -1
    assert labels[0] == labels[1] != labels[2] == labels[3]
