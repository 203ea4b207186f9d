"""A concern raised again: are two rounds' new-theme candidates of one subject linked, and only those?

``python -m bench.quality.recurring`` runs the eleven new-concerns and blind rounds of
``bench.lib.rounds.NEW_ROUNDS`` (``advisory run`` with the bundled codebook), takes each round's new-theme
candidates with their keywords, in that order as if they were eleven rounds of one archive, and links them as
``advisory archive trends`` does (:mod:`pipeline.archive.recurring`) for each number of shared keywords.

The truth is each candidate's subject: the gold theme most of its units have, read through :data:`SUBJECTS`,
which puts the gold themes of different rounds that are one concern under one name (the rounds were written
by different people, so their gold ids differ: ``new_access`` of the press round and ``new_barrier_free`` of
``blind_c1`` are both access for disabled and older visitors). A pair of candidates of different rounds is
*one concern* when their subjects are equal; a rule finds it when the two are in one linked group.

Then, as a researcher would, each subject's earliest candidate is promoted to the codebook and every later
round raising the subject is run with that codebook (:func:`promoted_rows`): how many of its units the
promoted theme takes there, and whether the archive links the theme back to the candidate it came from.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import NEW_ROUNDS
from bench.lib.tables import figure, table, text
from pipeline.archive.recurring import SHARED_KEYWORDS, linked_groups, recurring_links, shared_keywords
from pipeline.core.options import RunOptions
from pipeline.study.evaluate import match_units, read_gold
from pipeline.themes.codebook import load_codebook
from pipeline.themes.openset import is_new_theme
from pipeline.workflow import run_round

# The gold themes the codebook lacks, by subject. Ours, from the rounds' texts: safety of participants,
# facilities and in disasters is one concern (events, stays and programmes kept safe and insured), as are
# emissions, waste and climate; staffing and working hours of the programmes' staff; a gold theme not listed
# is a subject of its own.
SUBJECTS = {
    "new_safety": "safety", "new_participant_safety": "safety", "new_facility_safety": "safety",
    "new_disaster_safety": "safety",
    "new_environment": "environment", "new_climate": "environment", "new_carbon_neutral": "environment",
    "new_packaging_waste": "environment",
    "new_access": "access", "new_accessibility": "access", "new_barrier_free": "access",
    "new_residents": "residents", "new_resident_acceptance": "residents",
    "new_wellbeing": "wellbeing", "new_founder_wellbeing": "wellbeing",
    "new_ip": "ip", "new_ip_rights": "ip",
    "new_labor": "labour", "new_local_labour": "labour",
    "new_digital": "digital", "new_digital_platform": "digital",
    "new_hygiene": "hygiene", "new_food_safety": "hygiene",
}


def subject_of(theme_id: str) -> str:
    """The subject of a gold theme id (:data:`SUBJECTS`; an id it does not list is its own subject)."""
    return SUBJECTS.get(theme_id, theme_id)


def gold_rows(path: Path) -> list[dict]:
    """The gold coding beside round ``path`` (``<stem>_gold.csv``)."""
    return read_gold(path.with_name(f"{path.stem}_gold.csv"))


def coded_run(path: Path, out: Path, workdir: Path, codebook: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``advisory run`` of round ``path`` into ``out`` (``codebook``: the bundled one by default): its
    recommendations with each unit's gold theme (``gold``, empty where none matches) and its themes."""
    run_round([path], out, RunOptions(cache_dir=workdir / "cache"), codebook=codebook)
    recs = pd.read_csv(out / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    themes = pd.read_csv(out / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    pairs, _ = match_units(gold_rows(path), recs["text"].tolist())
    gold = {i: row["theme_id"] for row, i in pairs}
    return recs.assign(gold=[gold.get(i, "") for i in range(len(recs))]), themes


def candidates(workdir: Path) -> pd.DataFrame:
    """Every round's candidates, rounds in :data:`NEW_ROUNDS` order: ``round_name, theme_id, keywords, subject``
    (each round's run folder is ``workdir / round_name``)."""
    rows = []
    for name, path in NEW_ROUNDS.items():
        recs, themes = coded_run(path, workdir / name, workdir)
        for theme in themes.itertuples():
            if not is_new_theme(theme.theme_id, theme.theme_source):
                continue
            units = recs.loc[recs["theme_id"] == theme.theme_id, "gold"].tolist()
            top = Counter(units).most_common(1)[0][0]
            rows.append({"round_name": name, "theme_id": theme.theme_id, "keywords": theme.keywords,
                         "gold": top, "subject": subject_of(top)})
    return pd.DataFrame(rows)


def score(found: pd.DataFrame, min_shared: int, known: set[str]) -> list:
    """One row of the rule table: links, links of one subject, concern pairs found / all, pairs joined wrongly
    (``known``: the codebook's theme ids)."""
    links = recurring_links(found, min_shared)
    n = len(found)
    group = linked_groups(links, n)
    subject, rounds = found["subject"].tolist(), found["round_name"].tolist()
    pairs = [(i, j) for j in range(n) for i in range(j) if rounds[i] != rounds[j]]
    # Two false candidates whose units a codebook theme holds are not a concern raised again.
    concern = [g not in known and g != "" for g in found["gold"]]
    same = [(i, j) for i, j in pairs if subject[i] == subject[j] and concern[i]]
    joined = [(i, j) for i, j in pairs if group[i] == group[j]]
    right = sum(subject[i] == subject[j] for i, j in links)
    return [min_shared, len(links), right, f"{sum(group[i] == group[j] for i, j in same)} / {len(same)}",
            sum(subject[i] != subject[j] for i, j in joined)]


def link_rows(found: pd.DataFrame, min_shared: int) -> list:
    """Each link of the rule with ``min_shared`` keywords: the two candidates, their gold themes, shared words."""
    return [[f"{found.at[i, 'round_name']} {found.at[i, 'theme_id']}", found.at[i, "gold"],
             f"{found.at[j, 'round_name']} {found.at[j, 'theme_id']}", found.at[j, "gold"],
             ", ".join(shared_keywords(found.at[i, "keywords"], found.at[j, "keywords"])),
             "yes" if found.at[i, "subject"] == found.at[j, "subject"] else "no"]
            for i, j in recurring_links(found, min_shared)]


def promoted_rows(found: pd.DataFrame, workdir: Path) -> list[list]:
    """For each subject with candidates in two rounds or more: its earliest candidate promoted to the bundled
    codebook (``advisory codebook promote``), and every later round raising the subject run with that
    codebook. Per later round: the subject's units, how many the promoted theme takes, how many are still
    in a candidate, the other units it takes, and whether the archive links the promoted theme back to the
    earliest candidate (:func:`~pipeline.archive.recurring.link_recurring`'s ``later_theme``)."""
    from pipeline.archive.recurring import link_recurring
    from pipeline.runfolder.promotion import promote_candidate

    order = list(NEW_ROUNDS)
    rows = []
    concerns = found[~found["gold"].isin(set(load_codebook().ids)) & (found["gold"] != "")]
    for subject, group in concerns.groupby("subject", sort=True):
        if group["round_name"].nunique() < 2:
            continue
        first = group.iloc[0]
        theme_id = f"promoted_{subject}"
        book = workdir / f"themes_{subject}.yaml"
        promote_candidate(workdir / first.round_name, first.theme_id, subject, book, new_id=theme_id)
        for name in order[order.index(first.round_name) + 1:]:
            path = NEW_ROUNDS[name]
            if subject not in {subject_of(r["theme_id"]) for r in gold_rows(path)}:
                continue
            recs, themes = coded_run(path, workdir / f"{name}_{subject}", workdir, book)
            mine = recs["gold"].map(subject_of) == subject
            taken = recs["theme_id"] == theme_id
            candidate = [is_new_theme(t, s) for t, s in zip(recs["theme_id"], recs["theme_source"], strict=True)]
            named = themes.loc[themes["theme_id"] == theme_id, ["theme_id", "keywords"]].assign(round_name=name)
            linked = link_recurring(pd.DataFrame([first[["round_name", "theme_id", "keywords"]]]), named=named,
                                    round_order=order)["later_theme"].iloc[0]
            rows.append([subject, f"{first.round_name} {first.theme_id}", name, int(mine.sum()),
                         int((mine & taken).sum()), int((mine & pd.Series(candidate)).sum()),
                         int((~mine & taken).sum()), "yes" if linked else "no"])
    return rows


def measure(workdir: Path) -> list:
    found = candidates(workdir)
    rules = table([figure("shared keywords", "{}"), figure("links", "{}"), figure("links of one subject", "{}"),
                   figure("concern pairs linked", "{}"), figure("pairs of two subjects joined", "{}")],
                  [score(found, k, set(load_codebook().ids)) for k in (1, 2, 3, 4, 5)])
    links = table([figure("earlier candidate", "{}"), figure("its gold theme", "{}"), figure("later candidate", "{}"),
                   figure("its gold theme", "{}"), figure("shared keywords", "{}"), figure("one subject", "{}")],
                  link_rows(found, SHARED_KEYWORDS))
    return [rules, text(f"{len(found)} candidates in {found['round_name'].nunique()} rounds. `concern pairs "
                        "linked`: pairs of candidates of different rounds with one subject that the rule puts in "
                        "one group (directly or through others); `pairs of two subjects joined`: pairs it puts "
                        "in one group whose subjects differ."),
            text(f"The links at the default, {SHARED_KEYWORDS} shared keywords:"), links,
            text("Promoted, then raised again: each subject's earliest candidate promoted to the codebook "
                 "(`advisory codebook promote`), every later round raising it run with that codebook:"),
            table([figure("subject", "{}"), figure("promoted candidate", "{}"), figure("later round", "{}"),
                   figure("its units of the subject", "{}"), figure("under the promoted theme", "{}"),
                   figure("still a candidate", "{}"), figure("other units under it", "{}"),
                   figure("linked back by the archive", "{}")], promoted_rows(found, workdir))]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    with tempfile.TemporaryDirectory() as tmp:
        blocks = measure(Path(tmp))
    recorder.record("recurring", "New-theme candidates of different rounds linked as one concern", blocks)


if __name__ == "__main__":
    main()
