"""The package stays easy to change: layers that only import downwards (import-linter's contract in
pyproject.toml), no import cycle (in-function imports included), no module importing another's private
names, no module over 500 lines, no class over 250."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(node: ast.AST, module: str, modules: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for one import statement; relative imports resolved."""
    if isinstance(node, ast.Import):
        return [(a.name, []) for a in node.names if a.name in modules]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module.split(".")[: -node.level] if not modules[module].name == "__init__.py" else module.split(".")
        base = ".".join([*package, base] if base else package)
    found = []
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            found.append((f"{base}.{alias.name}", []))
        elif base in modules:
            found.append((base, [alias.name]))
    return found


def _imports() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    private: list[str] = []
    for module, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target, names in _imported(node, module, modules):
                deps.add(target)
                private += [f"{module} imports {target}.{n}" for n in names
                            if n.startswith("_") and not n.startswith("__") and target != module]
        graph[module] = deps - {module}
    return graph, private


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        stack.append(module)
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep):], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return []


def test_the_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle_between_pipeline_modules() -> None:
    graph, _ = _imports()
    assert len(graph) > 40 and graph["pipeline.workflow"]  # the walk sees the subpackages
    assert _cycle(graph) == []


def test_no_module_imports_another_modules_private_names() -> None:
    assert _imports()[1] == []


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)})


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is in the dev extra")
def test_layers_contract_holds_and_fails_on_an_upward_import(tmp_path: Path) -> None:
    kept = _lint_imports(ROOT)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "1 kept, 0 broken" in kept.stdout
    # The same tree with one upward import (the parser reaching for the workflow) breaks the contract.
    copy = tmp_path / "tree"
    shutil.copytree(PACKAGE, copy / "pipeline", ignore=shutil.ignore_patterns("__pycache__", "corpus"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    parser = copy / "pipeline" / "read" / "parser.py"
    parser.write_text(parser.read_text(encoding="utf-8") + "\nfrom pipeline.workflow import run_round  # noqa\n",
                      encoding="utf-8")
    broken = _lint_imports(copy)
    assert broken.returncode != 0
    assert "pipeline.read.parser -> pipeline.workflow" in broken.stdout


def test_every_module_and_class_stays_small() -> None:
    too_big = []
    for module, path in _modules().items():
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n")
        if lines > 500:
            too_big.append(f"{module}: {lines} lines")
        too_big += [f"{module}: class {node.name} {node.end_lineno - node.lineno + 1} lines"
                    for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 250]
    assert too_big == []
