"""What a fresh interpreter imports: for promises that a package stays free of another."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def packages_loaded_by(statements: str, among: tuple[str, ...]) -> list[str]:
    """The packages of ``among`` that ``statements`` (Python, run in a fresh interpreter at the
    project root) leave in ``sys.modules``."""
    report = f"import json, sys; print(json.dumps([p for p in {among!r} if p in sys.modules]))"
    output = subprocess.run(
        [sys.executable, "-c", f"{statements}\n{report}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return list(json.loads(output))
