"""The house rules, read from the code's own imports: every arrow points down, no cycles, small parts.

Floors (a package may import its own floor's package and anything below it, never above):

    interfaces                      6
    training, governance            5
    clients, evaluation             4
    answers                         3
    search                          2
    knowledge                       1
    config, errors, text, database, plugins   0
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "assistant"
FLOORS = {
    "config": 0, "errors": 0, "text": 0, "database": 0, "plugins": 0,
    "knowledge": 1, "search": 2, "answers": 3, "clients": 4, "evaluation": 4,
    "training": 5, "governance": 5, "interfaces": 6,
}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every assistant module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assistant"):
            assert node.level == 0, f"{path}: use absolute imports (from assistant.x import y)"
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("assistant"))
    return found & set(MODULES)


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def floor(module: str) -> int:
    return FLOORS[package_of(module)]


def test_every_package_has_a_floor_and_says_what_it_may_import():
    for module, path in MODULES.items():
        if module == "assistant":
            continue
        assert package_of(module) in FLOORS, f"{module}: add its package to FLOORS and to the README's map"
        if path.name == "__init__.py" and path.parent != PACKAGE:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "may import" in doc.lower(), f"{path}: the package docstring must say what it may import"


def test_imports_point_down_only():
    upward = []
    for module, path in MODULES.items():
        if module == "assistant":
            continue
        for target in imports_of(path):
            if target != "assistant" and floor(target) > floor(module):
                upward.append(f"{module} (floor {floor(module)}) imports {target} (floor {floor(target)})")
    assert not upward, "imports that point up:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = {m: imports_of(p) - {m, "assistant"} for m, p in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_modules_and_functions_stay_small():
    too_long = []
    for module, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n") + 1
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{module}: {lines} lines (limit {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{module}.{node.name}: {length} lines (limit {MAX_FUNCTION_LINES})")
    assert not too_long, "\n".join(too_long)


@pytest.mark.parametrize("name", ["split_sentences", "parse_sections", "label", "mmr", "cjk_share"])
def test_text_helpers_are_written_once(name):
    definitions = [m for m, p in MODULES.items()
                   if any(isinstance(n, ast.FunctionDef) and n.name == name for n in ast.parse(p.read_text()).body)]
    assert definitions == ["assistant.text"], f"{name} is defined in {definitions}"


def test_public_service_classes_open_with_a_usage_example():
    """Public classes show how they are used: a one-line why, then a short ``>>>`` example (models,
    exceptions and enums are exempt: their fields and messages say it)."""
    exempt = {"BaseModel", "Enum", "StrEnum", "IntEnum"}

    def is_exempt(node: ast.ClassDef) -> bool:
        bases = [ast.unparse(b) for b in node.bases]
        return any(b.endswith(("Error", "Exception")) or b in exempt for b in bases)

    missing = []
    for path in MODULES.values():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and not is_exempt(node):
                if ">>>" not in (ast.get_docstring(node) or ""):
                    missing.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert not missing, "public classes without a >>> usage example in their docstring:\n" + "\n".join(missing)
