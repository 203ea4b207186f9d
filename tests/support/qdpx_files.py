"""What the REFI-QDA tests read of a run and a project: the REFI-QDA 1.0 schema and sample, the run's
recommendations as text, a project's ``project.qde`` tree."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from lxml import etree

REFI = Path(__file__).resolve().parents[1] / "fixtures" / "refi-qda"
SCHEMA = REFI / "Project.xsd"
NS = {"q": "urn:QDA-XML:project:1.0"}


def recommendations(run: Path) -> pd.DataFrame:
    """``recommendations.csv`` of ``run``, every cell text."""
    return pd.read_csv(run / "recommendations.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def project_tree(path: Path) -> etree._Element:
    """The ``project.qde`` of the ``.qdpx`` at ``path``."""
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read("project.qde"))
