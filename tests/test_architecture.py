"""The package's shape: stages import only the stages before them (surfaces → service → stages → core), and
no module imports another that imports it back. Read from the source, so lazy imports count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
MAX_LINES = 420  # "every module under ~400 lines"

# Each subpackage's layer: a module may import its own subpackage and any subpackage of a lower layer.
LAYERS = {
    "core": 0,
    "demo": 1, "privacy": 1, "ingest": 1,
    "index": 2, "understand": 2,
    "behaviour": 3, "rank": 3,
    "llm": 4,
    "reasons": 5,
    "service": 6,
    "evaluation": 7,
    "surfaces": 8,
}
TOP = 9  # assistant/__init__.py and __main__.py


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` (imports for annotations only, never run)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            inside.update(id(n) for child in node.body for n in ast.walk(child))
    return inside


def imports_of(path: Path, annotations: bool = True) -> set[str]:
    """Every `assistant...` module a file imports, at the top or inside a function (and, with
    `annotations`, under `if TYPE_CHECKING:`)."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set() if annotations else type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("assistant"):
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("assistant"))
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: {m for m in imports_of(path) if m in MODULES and m != name} for name, path in MODULES.items()}
RUNTIME = {name: {m for m in imports_of(path, annotations=False) if m in MODULES and m != name}
           for name, path in MODULES.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 and parts[1] in LAYERS else TOP


def test_every_subpackage_has_a_layer() -> None:
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages == set(LAYERS)


def test_no_module_imports_a_later_stage() -> None:
    wrong = [f"{src} imports {dst}" for src, targets in GRAPH.items() for dst in sorted(targets)
             if dst.split(".")[:2] != src.split(".")[:2] and layer(dst) >= layer(src)]
    assert wrong == []


def test_no_import_cycle() -> None:
    graph = RUNTIME  # (imports for annotations only may point back: they never run)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_no_test_uses_a_private_name_of_the_package() -> None:
    tests = Path(__file__).resolve().parent
    private = []
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("assistant"):
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                private.append(f"{path.name}:{node.lineno}: .{node.attr}")
    assert private == []
