"""The report's first lines: the machine, Python, library versions and gunicorn's parser."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import pytest

from bench import load, machine


def test_the_cpu_is_named_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nmodel name\t: other\n")
    assert machine.cpu_model(cpuinfo) == "AMD EPYC 7B13"


def test_without_cpuinfo_platform_names_it(tmp_path: Path) -> None:
    expected = platform.processor() or platform.machine()
    assert machine.cpu_model(tmp_path / "missing") == expected
    (tmp_path / "empty").write_text("processor\t: 0\n")
    assert machine.cpu_model(tmp_path / "empty") == expected


def test_the_http_parser_is_c_when_gunicorn_h1c_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metadata, "version", lambda name: {"gunicorn_h1c": "0.6.10"}[name])
    assert machine.http_parser() == "C (gunicorn_h1c 0.6.10)"


def test_the_http_parser_is_python_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert machine.http_parser().startswith("Python (gunicorn_h1c not installed")


def test_the_lines_name_every_library_and_the_load_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(load, "wrk_version", lambda: None)
    lines = machine.machine()
    assert [line.split(":")[0] for line in lines] == [
        "machine", "python", "libs", "gunicorn HTTP parser"
    ]  # fmt: skip
    for name in machine.LIBRARIES:
        assert f"{name} {metadata.version(name)}" in lines[2]
    assert lines[2].endswith("load: python load generator")
    assert platform.python_version() in lines[1]
