"""A scan of the project's own code: no pickle, no eval/exec, no shell with user data."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("assistant/**/*.py"), *ROOT.glob("benchmarks/*.py"), ROOT / "app.py"])
BANNED_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal", "joblib"}
BANNED_CALLS = {"eval", "exec", "compile", "__import__"}


def test_sources_were_found() -> None:
    assert len(SOURCES) > 20


def scan(source: str, filename: str) -> list[str]:
    """Every banned import or call in one file's source."""
    problems: list[str] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            problems += [f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in BANNED_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in BANNED_MODULES:
            problems.append(f"{where} imports from {node.module}")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if isinstance(func, ast.Name) and called in BANNED_CALLS:
                problems.append(f"{where} calls {called}()")
            if called in ("system", "popen") and isinstance(func, ast.Attribute):
                problems.append(f"{where} calls os.{called}()")
            if any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords):
                problems.append(f"{where} runs a shell")
            if called == "load" and any(k.arg == "allow_pickle" and getattr(k.value, "value", False)
                                        for k in node.keywords):
                problems.append(f"{where} loads numpy data with allow_pickle=True")
    return problems


def test_the_scan_finds_what_it_bans() -> None:
    bad = ("import pickle\nfrom joblib import load\neval('1')\nimport os\nos.system('ls')\n"
           "import subprocess\nsubprocess.run('ls', shell=True)\nimport numpy as np\nnp.load('x', allow_pickle=True)\n")
    found = scan(bad, "bad.py")
    assert len(found) == 6, found


def test_no_pickle_eval_or_shell() -> None:
    problems = [p for path in SOURCES for p in scan(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert not problems, "\n".join(problems)


def test_numpy_loads_refuse_pickles() -> None:
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for line_number, line in enumerate(text.splitlines(), start=1):
            if "np.load(" in line:
                assert "allow_pickle=False" in line, f"{path.relative_to(ROOT)}:{line_number}"
