"""The built wheel works on its own: installed (not editable) into a fresh venv, run from another folder.

The venv reuses this environment's dependencies through a ``.pth`` line (offline, seconds instead of
minutes), but not its ``pipeline``: the fresh venv's own site-packages come first on ``sys.path``, and
the command runs with no ``PYTHONPATH`` in a folder that holds no checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

from pipeline.runfolder.schema import RUN_FILES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this checkout installed into it; returns its ``bin``."""
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy, so the build leaves no build/ or egg-info behind in the checkout.
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("pipeline", "corpus"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    str(src), "-w", str(work / "dist")], check=True)
    (wheel,) = (work / "dist").glob("advisory_themes-*.whl")
    env_dir = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    parents = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    Path(site, "_parent_env.pth").write_text("".join(f"{p}\n" for p in parents), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True)
    return python.parent


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["ADVISORY_CACHE_DIR"] = str(cache)
    return env


def test_the_installed_package_is_the_wheel_not_the_checkout(venv: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(venv / "python"), "-c", "import pipeline.core.paths as p; print(p.CORPUS_DIR)"],
                           cwd=tmp_path, env=_env(tmp_path / "cache"), check=True, capture_output=True,
                           text=True).stdout.strip()
    assert Path(where).is_relative_to(venv.parent)
    assert Path(where, "themes.yaml").is_file() and Path(where, "eval", "seed_gold.csv").is_file()


def test_advisory_run_from_another_folder_writes_a_full_run_folder(venv: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = subprocess.run([str(venv / "advisory"), "run"], cwd=tmp_path, env=_env(cache),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "outputs"
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    recs = pd.read_csv(out / "recommendations.csv", encoding="utf-8-sig")
    assert len(recs) == 52 and recs["theme_source"].eq("codebook").any()
    # The default embedder's vectors went to the cache named by ADVISORY_CACHE_DIR, not into the checkout.
    assert any(p.is_file() for p in cache.rglob("*"))
