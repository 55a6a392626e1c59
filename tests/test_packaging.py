"""The built wheel, installed into a fresh virtual environment, works on its own: its data files (prompts,
vocabularies, segments, the demo store, the labelled requests) travel inside it, and `aisle recommend`
run from a folder outside the checkout gets reasons written by the real default LLM.

The fresh environment sees the dependencies of the running one through a .pth file that names its
site-packages folder; .pth files inside that folder are not processed then, so the running environment's
editable install of Aisle (a .pth finder) is not active and `assistant` can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ("pyproject.toml", "README.md", "assistant", "prompts")


@dataclass(frozen=True)
class Installed:
    """A fresh environment holding only the wheel, and a working folder outside the checkout."""

    prefix: Path
    work: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    def run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], cwd=self.work, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def site_packages(self) -> Path:
        """The fresh environment's own site-packages folder."""
        out = subprocess.run([str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             env=self.env, capture_output=True, text=True, check=True, timeout=60)
        return Path(out.stdout.strip())


def _clean_env() -> dict[str, str]:
    """The environment without anything that could put the checkout or outer settings on the path."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("AISLE_")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("packaging")
    source, dist, prefix, work = root / "source", root / "dist", root / "venv", root / "work"
    # Build from a copy: an in-tree build would leave build/ behind, and a stale build/ leaks into wheels.
    source.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    env = _clean_env()
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-index", "--no-deps",
                            "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = list(dist.glob("aisle-*.whl"))
    assert len(wheels) == 1, wheels

    venv.create(prefix, with_pip=False)
    fresh = Installed(prefix, work, env)
    site = fresh.site_packages()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "aisle-test-deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    work.mkdir()
    done = fresh.run(fresh.python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                     "--ignore-installed", wheels[0], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return fresh


def test_the_package_and_its_data_come_from_the_fresh_environment(installed: Installed) -> None:
    script = ("import assistant, json\n"
              "from assistant.demo import DATA_DIR\n"
              "from assistant.evaluation.metrics import default_requests_path\n"
              "from assistant.llm.prompts import PROMPTS_DIR, load_template\n"
              "from assistant.rank.segments import DEFAULT_FILE, load_segments\n"
              "from assistant.understand import load_vocabulary\n"
              "load_template('reason'), load_template('rerank'), load_segments(), load_vocabulary()\n"
              "print(json.dumps([assistant.__file__, str(DATA_DIR), str(default_requests_path()),\n"
              "                  str(PROMPTS_DIR), str(DEFAULT_FILE)]))\n")
    done = installed.run(installed.python, "-c", script)
    assert done.returncode == 0, done.stderr
    module, demo, requests, prompts, segments = (Path(p) for p in json.loads(done.stdout))
    site = installed.site_packages().resolve()
    for path in (module, demo, requests, prompts, segments):
        assert path.resolve().is_relative_to(site), (path, site)
        assert not path.resolve().is_relative_to(ROOT), path
    assert {p.name for p in demo.iterdir()} >= {"products.jsonl", "customers.csv", "events.csv.gz"}
    assert requests.is_file() and requests.stat().st_size > 0
    assert {p.name for p in prompts.iterdir()} >= {"reason.txt", "rerank.txt"}
    assert not prompts.is_symlink()  # the wheel holds the templates themselves


def test_python_m_assistant_shows_the_command_line(installed: Installed) -> None:
    done = installed.run(installed.python, "-m", "assistant", "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: aisle" in done.stdout and "recommend" in done.stdout


@pytest.mark.slow
def test_installed_aisle_recommends_with_llm_written_reasons(installed: Installed) -> None:
    aisle = installed.prefix / "bin" / "aisle"
    catalog = installed.run(installed.python, "-c", "from assistant.demo import catalog_path; print(catalog_path())")
    assert catalog.returncode == 0, catalog.stderr
    # The hashing embedder keeps the index build to seconds; the LLM stage under test is the real one.
    built = installed.run(aisle, "--index-dir", "idx", "index", "build", catalog.stdout.strip(),
                          "--embedder", "hashing", "--quiet")
    assert built.returncode == 0, built.stdout + built.stderr
    done = installed.run(aisle, "--index-dir", "idx", "recommend", "a waterproof rain jacket for my 6 year old "
                         "under $40", "--json", timeout=1500)
    assert done.returncode == 0, done.stdout + done.stderr
    items = json.loads(done.stdout)["items"]
    assert items, done.stdout
    sources = [item["breakdown"].get("reason_source") for item in items]
    assert "llm" in sources, (sources, done.stderr)
    assert all(item["breakdown"].get("reason") for item in items)
