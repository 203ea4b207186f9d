"""The package stays easy to change: layers that only import downwards (import-linter's contract in
pyproject.toml), no import cycle (in-function imports included), no module importing another's private
names, no module over 400 lines, no class over 250, no function over 60 (decorators and docstring included)."""

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


#: The sizes nothing in the package may exceed, in lines.
MAX_MODULE, MAX_CLASS, MAX_FUNCTION = 400, 250, 60


def _too_big(name: str, source: str) -> list[str]:
    """What in one module's ``source`` is over the limits: the module, its classes, its functions and methods."""
    found = [f"{name}: {source.count(chr(10))} lines"] if source.count("\n") > MAX_MODULE else []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        lines = node.end_lineno - min([node.lineno, *(d.lineno for d in node.decorator_list)]) + 1
        limit = MAX_CLASS if isinstance(node, ast.ClassDef) else MAX_FUNCTION
        if lines > limit:
            found.append(f"{name}: {'class' if isinstance(node, ast.ClassDef) else 'function'} {node.name} "
                         f"{lines} lines")
    return found


def test_the_size_check_finds_a_long_module_class_and_function() -> None:
    def body(n: int) -> str:
        return "".join(f"    x{i} = {i}\n" for i in range(n))

    assert _too_big("m", f"def f():\n{body(MAX_FUNCTION - 1)}") == []
    assert _too_big("m", f"def f():\n{body(MAX_FUNCTION)}") == ["m: function f 61 lines"]
    # A decorator counts: it is part of what a reader has to take in.
    assert _too_big("m", f"@decorated\ndef f():\n{body(MAX_FUNCTION - 1)}") == ["m: function f 61 lines"]
    assert _too_big("m", "class C:\n" + "    x = 1\n" * MAX_CLASS) == ["m: class C 251 lines"]
    assert _too_big("m", "x = 1\n" * (MAX_MODULE + 1)) == ["m: 401 lines"]


def test_every_module_class_and_function_stays_small() -> None:
    too_big = [problem for module, path in _modules().items()
               for problem in _too_big(module, path.read_text(encoding="utf-8"))]
    assert too_big == []
