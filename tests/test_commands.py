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


def executable(path: Path, script: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


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
        executable(tool, script)
    return project, log


def run_ci(tmp_path: Path, failing: str = "nothing fails") -> tuple[int, list[str], str]:
    project, log = fake_tools(tmp_path, failing)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(project / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, log.read_text().splitlines(), done.stdout


def test_ci_installs_wrk_then_runs_make_test_the_whole_matrix_and_lint(tmp_path: Path) -> None:
    status, calls, _ = run_ci(tmp_path)
    pythons = "PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0"
    assert calls == [
        f"make -s wrk {pythons}",
        f"make test {pythons}",
        "tox run-parallel --parallel auto --parallel-no-spinner --skip-missing-interpreters "
        f"false -m test {pythons}",
        f"tox run -e lint --skip-missing-interpreters false {pythons}",
    ]
    assert status == 0


@pytest.mark.parametrize(
    ("failing", "step"), [("make -s wrk", "make wrk"), ("make test", "make test")]
)
def test_ci_runs_every_step_and_fails_when_one_did(tmp_path: Path, failing: str, step: str) -> None:
    status, calls, output = run_ci(tmp_path, failing=failing)
    assert len(calls) == 4  # the later steps still ran
    assert status == 1
    assert output.splitlines()[-1] == f"FAILED: {step}"


def run_make_wrk(
    tmp_path: Path, *, installed: bool, uid: int, stale_lists: bool = False
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``make wrk`` with a PATH of stand-ins: ``id`` answering ``uid``, and an ``apt-get`` that
    logs its arguments and installs a fake wrk (only after an ``update`` when ``stale_lists``)."""
    bin_dir, packages = tmp_path / "bin", tmp_path / "packages"
    executable(packages / "wrk", "#!/bin/bash\necho 'wrk 4.1.0 [epoll]'\n")
    lists_fresh = packages / "lists-fresh"
    if not stale_lists:
        lists_fresh.touch()
    log = tmp_path / "apt.log"
    log.touch()
    stand_ins = {
        "id": f"#!/bin/bash\necho {uid}\n",
        "apt-get": (
            f'#!/bin/bash\necho "$*" >> {log}\n'
            f"[[ $1 == update ]] && exec touch {lists_fresh}\n"
            f"[[ -e {lists_fresh} ]] || exit 100\n"
            f"cp {packages / 'wrk'} {bin_dir}\n"
        ),
    }
    for name, script in stand_ins.items():
        executable(bin_dir / name, script)
    for tool in ("head", "cp", "touch"):
        (bin_dir / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    if installed:
        (bin_dir / "wrk").symlink_to(packages / "wrk")
    done = subprocess.run(
        [shutil.which("make") or "make", "-s", "-C", str(ROOT), "wrk"],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, log.read_text().splitlines()


def test_make_wrk_does_nothing_when_wrk_is_there(tmp_path: Path) -> None:
    done, apt_calls = run_make_wrk(tmp_path, installed=True, uid=0)
    assert (done.returncode, apt_calls, done.stdout) == (0, [], "")


def test_make_wrk_installs_it_as_root_with_apt_get(tmp_path: Path) -> None:
    done, apt_calls = run_make_wrk(tmp_path, installed=False, uid=0)
    assert done.returncode == 0, done.stderr
    assert apt_calls == ["install -y -qq --no-install-recommends wrk"]
    assert done.stdout.splitlines() == ["Installing wrk (apt-get install wrk)", "wrk 4.1.0 [epoll]"]


def test_make_wrk_updates_stale_package_lists_once_and_tries_again(tmp_path: Path) -> None:
    done, apt_calls = run_make_wrk(tmp_path, installed=False, uid=0, stale_lists=True)
    assert done.returncode == 0, done.stderr
    install = "install -y -qq --no-install-recommends wrk"
    assert apt_calls == [install, "update -qq", install]


def test_make_wrk_fails_with_the_command_to_run_when_not_root(tmp_path: Path) -> None:
    done, apt_calls = run_make_wrk(tmp_path, installed=False, uid=1000)
    assert done.returncode != 0
    assert apt_calls == []
    assert "sudo apt install wrk" in done.stderr
