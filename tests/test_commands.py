"""The newcomer's commands (SPEC section 4): the README's quickstart, the Makefile targets it
names, and ``.ci/run``, which CI runs on a fresh clone."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    """The commands of the README's Quickstart code block, without their comments."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the Quickstart has no sh code block"
    lines = (line.split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [line for line in lines if line]


def test_the_quickstart_is_make_run_and_make_test() -> None:
    assert quickstart_commands() == ["make run", "make test"]


@pytest.mark.parametrize(
    ("target", "runs"),
    [
        ("run", "-m devtools.run --api-port 8000 --idp-port 8001"),
        ("test", "/pytest -n "),
    ],
)
def test_each_quickstart_target_runs_what_the_readme_says(target: str, runs: str) -> None:
    """``make -n`` prints the recipe without running it (nor installing anything)."""
    assert shutil.which("make"), "make is one of the README's two requirements"
    shown = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert runs in shown.stdout


def fake_tools(tmp_path: Path, failing: str) -> tuple[Path, Path]:
    """A copy of ``.ci/run`` beside a ``make`` and a ``.venv/bin/tox`` that log their arguments
    and fail when those contain ``failing``."""
    project = tmp_path / "project"
    (project / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", project / ".ci" / "run")
    log = tmp_path / "calls.log"
    script = (
        "#!/usr/bin/env bash\n"
        'call="$(basename "$0") $*"\n'
        f'echo "$call PYENV_VERSION=$PYENV_VERSION" >> {log}\n'
        f'[[ "$call" != *"{failing}"* ]]\n'
    )
    bin_dir = tmp_path / "bin"
    for tool in (bin_dir / "make", project / ".venv" / "bin" / "tox"):
        tool.parent.mkdir(parents=True, exist_ok=True)
        tool.write_text(script)
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return project, log


def run_ci(tmp_path: Path, failing: str = "nothing fails") -> tuple[int, list[str], str]:
    project, log = fake_tools(tmp_path, failing)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(project / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, log.read_text().splitlines(), done.stdout


def test_ci_runs_make_test_then_the_whole_matrix_then_lint(tmp_path: Path) -> None:
    status, calls, _ = run_ci(tmp_path)
    pythons = "PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0"
    assert calls == [
        f"make test {pythons}",
        "tox run-parallel --parallel auto --parallel-no-spinner --skip-missing-interpreters "
        f"false -m test {pythons}",
        f"tox run -e lint --skip-missing-interpreters false {pythons}",
    ]
    assert status == 0


def test_ci_runs_every_step_and_fails_when_one_did(tmp_path: Path) -> None:
    status, calls, output = run_ci(tmp_path, failing="make test")
    assert len(calls) == 3  # the matrix and lint still ran
    assert status == 1
    assert "FAILED: make test" in output
