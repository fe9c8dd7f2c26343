"""The external check: musicnn's README example returns its documented tags, in order."""

import subprocess
import sys

from conftest import README_MTT_TOP10


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "musicnn_nb", *args], capture_output=True, text=True)


def test_tags_command_prints_the_readme_list(clip):
    result = run_cli("tags", str(clip), "--model", "MTT", "--top", "10")
    assert result.returncode == 0, result.stderr
    tags = [line.split("\t")[0] for line in result.stdout.splitlines() if not line.startswith("#")]
    assert tags == README_MTT_TOP10


def test_original_package_run_today_does_not(clip, tmp_path):
    """Why the pre-processing decisions exist: the 2019 code on today's NumPy goes wrong."""
    script = ("import os; os.environ['TF_USE_LEGACY_KERAS']='1'; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'\n"
              "from musicnn.tagger import top_tags\n"
              f"print('|'.join(top_tags({str(clip)!r}, model='MTT_musicnn', topN=10, print_tags=False)))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].split("|") != README_MTT_TOP10
