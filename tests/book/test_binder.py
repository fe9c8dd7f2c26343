"""Binder's recipe works: a fresh environment from requirements.txt + postBuild imports the
package and executes a chapter. Slow (it installs everything into a scratch folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import execute_chapter

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_binder_recipe_builds_an_environment_that_runs_a_chapter(tmp_path):
    venv = tmp_path / "binder-env"
    base = shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    run(str(bin_dir / "pip"), "install", "--quiet", "-r", "requirements.txt", env=env)
    run("sh", "postBuild", env=env)
    probe = run(str(bin_dir / "python"), "-c",
                "import musicnn_nb, sys; print(musicnn_nb.__file__); print(sys.prefix)", env=env)
    assert str(venv) in probe.stdout
    executed = execute_chapter(str(bin_dir / "python"), ROOT / "book" / "03_input.md", tmp_path, env)
    assert executed.returncode == 0, executed.stderr[-3000:]
    assert '"output_type": "error"' not in (tmp_path / "03_input.ipynb").read_text()
