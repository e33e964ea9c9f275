"""Settings come from the environment or a ``.env`` file at the project root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Django settings as the project sets them, and the leeway the validator reads from them.
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "from apiexample import conf; "
    "seen = {n: str(getattr(settings, n)) for n in "
    "['AUTH0_DOMAIN', 'AUTH0_AUDIENCE', 'DEBUG', 'ALLOWED_HOSTS', 'CORS_ALLOWED_ORIGINS']}; "
    "seen['leeway'] = format(conf.current().leeway, 'g'); "
    "print(json.dumps(seen))"
)


def settings_with(env: dict[str, str], cwd: Path) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "DJANGO_", "CORS_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="apiexample.settings", PYTHONPATH=str(cwd))
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))


def copy_project(tmp_path: Path) -> Path:
    (tmp_path / "apiexample").mkdir()
    for source in (ROOT / "apiexample").glob("*.py"):
        (tmp_path / "apiexample" / source.name).write_text(source.read_text())
    return tmp_path


def test_environment_variables(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    seen = settings_with(
        {
            "AUTH0_DOMAIN": "t.auth0.com",
            "AUTH0_AUDIENCE": "https://a",
            "DJANGO_DEBUG": "true",
            "DJANGO_ALLOWED_HOSTS": "api.example.com",
            "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        },
        project,
    )
    assert seen == {
        "AUTH0_DOMAIN": "t.auth0.com",
        "AUTH0_AUDIENCE": "https://a",
        "leeway": "30",
        "DEBUG": "True",
        "ALLOWED_HOSTS": "['api.example.com']",
        "CORS_ALLOWED_ORIGINS": "['https://app.example.com']",
    }


def test_dotenv_file_with_environment_winning(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / ".env").write_text("AUTH0_DOMAIN=from-file.auth0.com\nAUTH0_AUDIENCE=https://file\n")
    seen = settings_with({"AUTH0_AUDIENCE": "https://env"}, project)
    assert seen["AUTH0_DOMAIN"] == "from-file.auth0.com"
    assert seen["AUTH0_AUDIENCE"] == "https://env"


def test_defaults_are_safe(tmp_path: Path) -> None:
    seen = settings_with({}, copy_project(tmp_path))
    assert seen["DEBUG"] == "False"
    assert seen["ALLOWED_HOSTS"] == "['localhost', '127.0.0.1', '[::1]']"
    assert seen["CORS_ALLOWED_ORIGINS"] == "[]"


def test_a_variable_set_but_empty_takes_the_default(tmp_path: Path) -> None:
    """``DJANGO_ALLOWED_HOSTS=`` in a compose file or .env must not mean "no host at all"."""
    project = copy_project(tmp_path)
    (project / ".env").write_text("AUTH0_LEEWAY=\n")
    seen = settings_with({"DJANGO_ALLOWED_HOSTS": "", "AUTH0_DOMAIN": " "}, project)
    assert seen["ALLOWED_HOSTS"] == "['localhost', '127.0.0.1', '[::1]']"
    assert seen["leeway"] == "30"
    assert seen["AUTH0_DOMAIN"] == ""
