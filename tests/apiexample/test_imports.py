"""Importing the API does no I/O and never touches Authlib's deprecated ``authlib.jose``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys, warnings
warnings.simplefilter("error")
import socket
import requests
# Recorded, since whatever a fetch raises the key cache catches: keys that cannot be fetched
# are a 503 to a request, never an exception out of the module.
attempts = []
def no_network(*args, **kwargs):
    attempts.append(args[1:2])
    raise AssertionError("network at import time")
requests.Session.request = no_network
socket.socket.connect = no_network
import django
django.setup()
import apiexample.views, apiexample.wsgi, apiexample.asgi
assert not attempts, f"network at import time: {attempts}"
assert "authlib.jose" not in sys.modules, "authlib.jose was imported"
print("clean")
"""


def test_import_is_clean_and_offline() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "apiexample.settings",
        "PYTHONPATH": str(ROOT),
        "AUTH0_DOMAIN": "tenant.example.com",
        "AUTH0_AUDIENCE": "https://api",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_wsgi_and_asgi_entry_points() -> None:
    from apiexample import asgi, wsgi

    assert callable(wsgi.application)
    assert callable(asgi.application)
