"""gunicorn's config for every gunicorn our tooling starts (``gunicorn -c python:...``).

Its master dies with the process that started it (``start_in_session``); this hook makes each
worker die with the master. Without it a sync worker outlives a SIGKILLed master until its
next check of its parent, up to half gunicorn's ``--timeout`` (15 s), still holding the port.
"""

from __future__ import annotations

import os
from typing import Any

from devtools.parent_death import die_with_parent


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn server hook, in each new worker: SIGKILLed when the master dies (Linux)."""
    ask = die_with_parent()
    if ask is not None:
        ask()
    if os.getppid() != worker.ppid:  # the master died before the request took effect
        raise SystemExit(1)
