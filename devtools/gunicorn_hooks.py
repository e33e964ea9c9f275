"""gunicorn's config for every gunicorn our tooling starts (``gunicorn -c python:...``).

The production settings (``apiexample.gunicorn_config``: header field limit, forwarder headers,
token-free logs), plus one hook of our own. gunicorn's master dies with the process that started it
(``start_in_session``); the hook makes each worker die with the master. Without it a sync
worker outlives a SIGKILLed master until its next check of its parent, up to half gunicorn's
``--timeout`` (15 s), still holding the port.

gunicorn reads every module-level name that is one of its settings: those imported, and
``post_fork``. Being a ``--config``, it also means gunicorn reads no ``./gunicorn.conf.py``.
"""

from __future__ import annotations

import os
from typing import Any

from apiexample.gunicorn_config import forwarder_headers as forwarder_headers
from apiexample.gunicorn_config import limit_request_field_size as limit_request_field_size
from apiexample.gunicorn_config import on_starting as on_starting
from devtools.parent_death import die_with_parent

#: Resolved once, in the master, so each forked worker only calls prctl.
_ASK_TO_DIE_WITH_PARENT = die_with_parent()


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn server hook, in each new worker: SIGKILLed when the master dies (Linux)."""
    if _ASK_TO_DIE_WITH_PARENT is not None:
        _ASK_TO_DIE_WITH_PARENT()
    if os.getppid() != worker.ppid:  # the master died before the request took effect
        raise SystemExit(1)
