"""The lines that open the bench's report: the machine, Python, library versions, parsers."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

from bench import load

LIBRARIES = ("Django", "Authlib", "joserfc", "cryptography", "PyJWT", "gunicorn")
CPUINFO = Path("/proc/cpuinfo")


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The first ``model name`` of ``/proc/cpuinfo``, else what ``platform`` knows."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def http_parser() -> str:
    """gunicorn 27 (not 23) parses requests in C when gunicorn_h1c is installed."""
    try:
        return f"C (gunicorn_h1c {metadata.version('gunicorn_h1c')})"
    except metadata.PackageNotFoundError:
        return "Python (gunicorn_h1c not installed: requirements-fast.txt)"


def machine() -> list[str]:
    """Where and with what the figures were measured."""
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in LIBRARIES)
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}",
        f"python:  {platform.python_implementation()} {platform.python_version()}",
        f"libs:    {versions}, load: {load.wrk_version() or 'python load generator'}",
        f"gunicorn HTTP parser: {http_parser()}",
    ]
