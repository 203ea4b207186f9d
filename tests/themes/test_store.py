"""A saved model is data, not instructions: anything model.json names or holds is checked (issue 13, items 4, 10)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.themes.store import load_model

ROUND = "□ 홍길동 위원\n" + "".join(f"ㅇ {w} 사업을 개선해야 합니다.\n" for w in ["상생상회", "청년 창업", "홍보"] * 4)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    base = tmp_path_factory.mktemp("model")
    path = base / "round.txt"
    path.write_text(ROUND, encoding="utf-8")
    assert main(["run", str(path), "--no-codebook", "--no-cache", "--quiet", "--out", str(base / "run"),
                 "--save-model", str(base / "model")]) == 0
    return base / "model"


def _copy(saved, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(saved, folder, symlinks=True)
    return folder


def _edit_json(folder, change):
    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    change(info)
    (folder / "model.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")


def _set_stopwords(value):
    def change(info):
        info["tokenizers"]["keyword"]["stopwords"] = value
    return change


def test_the_saved_model_loads(saved):
    assert len(load_model(saved).themes_) >= 1


@pytest.mark.parametrize("change", [
    _set_stopwords("/etc/passwd"),
    _set_stopwords("/dev/zero"),
    _set_stopwords("../../../../etc/passwd"),
    _set_stopwords(3),
    lambda info: info["params"].update(seed="0"),
    lambda info: info["params"].update(n_keywords=2.5),
    lambda info: info["themes"].pop(),
    lambda info: info["cluster_vocabulary"].pop(),
    lambda info: info.update(themes="x"),
], ids=["etc-passwd", "dev-zero", "dotdot", "not-a-name", "string-seed", "float-int", "theme-dropped",
        "vocabulary-short", "themes-wrong-type"])
def test_a_tampered_model_json_is_a_one_line_error(saved, tmp_path, change):
    folder = _copy(saved, tmp_path)
    _edit_json(folder, change)
    with pytest.raises(InputError) as err:
        load_model(folder)
    assert str(folder) in str(err.value) and "\n" not in str(err.value)


def test_a_symlink_out_of_the_model_folder_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    (folder / "tokenizer" / "evil.txt").symlink_to("/etc/passwd")
    _edit_json(folder, _set_stopwords("evil.txt"))
    with pytest.raises(InputError, match="모델 폴더 안의"):
        load_model(folder)


@pytest.mark.parametrize("damage", ["nan", "inf", "shape", "dtype"])
def test_damaged_arrays_are_refused(saved, tmp_path, damage):
    folder = _copy(saved, tmp_path)
    arrays = load_file(str(folder / "arrays.safetensors"))
    if damage == "nan":
        arrays["cluster_idf"][0] = np.nan
    elif damage == "inf":
        arrays["centroids"][0, 0] = np.inf
    elif damage == "shape":
        arrays["centroids"] = arrays["centroids"][:, :-1].copy()
    else:
        arrays["cluster_idf"] = arrays["cluster_idf"].astype(np.float32)
    save_file(arrays, str(folder / "arrays.safetensors"))
    with pytest.raises(InputError, match="배열"):
        load_model(folder)
