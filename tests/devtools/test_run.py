"""The ``make run`` dev runner (devtools/run.py): commands, environment, curl lines, processes."""

from __future__ import annotations

import shlex
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import run
from devtools.processes import no_control_socket
from devtools.run import DevConfig, DevRunError
from tests.recording_server import recording_server

CONFIG = DevConfig(api_port=8100, idp_port=8101, state_dir=Path("/srv/state"), python="py")


def test_config_derives_urls_and_keys_file() -> None:
    assert CONFIG.api_url == "http://127.0.0.1:8100"
    assert CONFIG.issuer == "http://127.0.0.1:8101/"
    assert CONFIG.keys_file == Path("/srv/state/mock_idp_keys.json")


def test_default_config_keeps_keys_in_gitignored_var() -> None:
    config = DevConfig()
    assert (config.api_port, config.idp_port) == (8000, 8001)
    assert config.keys_file.parent == run.PROJECT_ROOT / "var"
    gitignore = (run.PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert "/var/" in gitignore


def test_idp_command_serves_on_loopback_with_keys_and_issuer() -> None:
    assert run.idp_command(CONFIG) == [
        "py", "-m", "mock_idp", "serve", "--host", "127.0.0.1", "--port", "8101",
        "--keys", "/srv/state/mock_idp_keys.json", "--issuer", "http://127.0.0.1:8101/",
        "--audience", "https://api.example.test",
    ]  # fmt: skip


def test_api_command_is_gunicorn_on_loopback() -> None:
    argv = run.api_command(CONFIG)
    assert argv[:4] == ["py", "-m", "gunicorn", "apiexample.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8100"
    assert set(no_control_socket()) <= set(argv)


def test_gunicorn_runs_without_a_control_socket_in_home() -> None:
    gunicorn_config = pytest.importorskip("gunicorn.config")
    names = {setting.name for setting in gunicorn_config.KNOWN_SETTINGS}
    expected = ["--no-control-socket"] if "control_socket_disable" in names else []
    assert no_control_socket() == expected


def test_token_command_mints_for_the_audience_and_scope() -> None:
    argv = run.token_command(CONFIG, scope="read:messages")
    assert argv[:4] == ["py", "-m", "mock_idp", "token"]
    options = dict(zip(argv[4::2], argv[5::2], strict=True))
    assert options == {
        "--keys": "/srv/state/mock_idp_keys.json",
        "--issuer": "http://127.0.0.1:8101/",
        "--audience": "https://api.example.test",
        "--scope": "read:messages",
        "--expires-in": "3600",
    }


def test_api_env_pins_every_auth0_setting_to_the_mock_idp() -> None:
    base = {
        "PATH": "/usr/bin",
        "AUTH0_DOMAIN": "tenant.us.auth0.com",
        "AUTH0_JWKS_URL": "https://tenant.us.auth0.com/.well-known/jwks.json",
        "AUTH0_ISSUER": "https://tenant.us.auth0.com/",
        "DJANGO_DEBUG": "true",
    }
    env = run.api_env(CONFIG, base)
    assert env["PATH"] == "/usr/bin"
    assert env["AUTH0_DOMAIN"] == ""
    assert env["AUTH0_JWKS_COOLDOWN"] == "30"  # every AUTH0_* setting, defaults included
    assert env["AUTH0_ISSUER"] == "http://127.0.0.1:8101/"
    assert env["AUTH0_JWKS_URL"] == "http://127.0.0.1:8101/.well-known/jwks.json"
    assert env["AUTH0_AUDIENCE"] == "https://api.example.test"
    assert env["AUTH0_ALGORITHMS"] == "RS256"
    assert len(env["DJANGO_SECRET_KEY"]) >= 32  # a random key per start
    assert env["DJANGO_SECRET_KEY"] != run.api_env(CONFIG, base)["DJANGO_SECRET_KEY"]
    assert env["DJANGO_DEBUG"] == "false"
    assert env["DJANGO_SETTINGS_MODULE"] == "apiexample.settings"
    assert base["AUTH0_DOMAIN"] == "tenant.us.auth0.com", "the caller's mapping is not modified"


def test_curl_lines_send_the_token_to_protected_routes_only() -> None:
    lines = [shlex.split(line) for line in run.curl_lines(CONFIG, "tok.en.value")]
    assert lines == [
        ["curl", "http://127.0.0.1:8100/api/public"],
        ["curl", "-H", "Authorization: Bearer tok.en.value", "http://127.0.0.1:8100/api/private"],
        [
            "curl", "-H", "Authorization: Bearer tok.en.value",
            "http://127.0.0.1:8100/api/private-scoped",
        ],
    ]  # fmt: skip


def test_token_request_line_is_auth0_client_credentials() -> None:
    argv = shlex.split(run.token_request_line(CONFIG))
    assert argv[:4] == ["curl", "-X", "POST", "http://127.0.0.1:8101/oauth/token"]
    assert argv[4::2] == ["-d"] * 5
    assert argv[5::2] == [
        "grant_type=client_credentials",
        "client_id=x",
        "client_secret=y",
        "audience=https://api.example.test",
        "scope=read:messages",
    ]


def test_banner_lists_every_line() -> None:
    text = run.banner(CONFIG, "tok.en.value")
    for line in [*run.curl_lines(CONFIG, "tok.en.value"), run.token_request_line(CONFIG)]:
        assert f"  {line}\n" in text
    assert "Ctrl-C" in text


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_ensure_port_free_accepts_a_free_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run.ensure_port_free(port, "API")


@pytest.mark.parametrize(("what", "variable"), [("API", "API_PORT"), ("IdP", "IDP_PORT")])
def test_ensure_port_free_names_the_make_variable(
    listening_port: int, what: str, variable: str
) -> None:
    with pytest.raises(DevRunError, match=f"make run {variable}="):
        run.ensure_port_free(listening_port, what)


def test_parse_args_defaults_ports_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("API_PORT", "9000")
    monkeypatch.setenv("IDP_PORT", "9001")
    config = run.parse_args(["--state-dir", str(tmp_path)])
    assert (config.api_port, config.idp_port, config.state_dir) == (9000, 9001, tmp_path)
    assert run.parse_args(["--api-port", "7000"]).api_port == 7000


def test_parse_args_refuses_one_port_for_both() -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--api-port", "9000", "--idp-port", "9000"])


def python_child(code: str, *, pipe_stdout: bool = True) -> run.Child:
    return run.spawn("child", [sys.executable, "-c", code], {}, pipe_stdout=pipe_stdout)


def test_wait_for_line_returns_the_ready_line_and_keeps_echoing(
    capfd: pytest.CaptureFixture[str],
) -> None:
    child = python_child("print('booting'); print('mock_idp serving http://x/'); print('after')")
    try:
        assert run.wait_for_line(child, "mock_idp serving", 10) == "mock_idp serving http://x/"
        child.process.wait(10)
    finally:
        child.stop()
    out = capfd.readouterr().out
    assert "[child] booting" in out
    assert "[child] after" in out


def test_wait_for_line_fails_when_the_child_exits_first() -> None:
    child = python_child("import sys; print('nope'); sys.exit(3)")
    with pytest.raises(DevRunError, match=r"exited \(status 3\)"):
        run.wait_for_line(child, "mock_idp serving", 10)
    child.stop()


def test_wait_for_line_times_out() -> None:
    child = python_child("import time; time.sleep(30)")
    try:
        with pytest.raises(DevRunError, match="no 'ready' line"):
            run.wait_for_line(child, "ready", 0.3)
    finally:
        child.stop()


def test_stop_terminates_and_reaps() -> None:
    child = python_child("import time; time.sleep(30)", pipe_stdout=False)
    child.stop()
    assert child.process.returncode == -signal.SIGTERM
    assert not child.running


def test_stop_kills_a_child_ignoring_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    child = python_child(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    run.wait_for_line(child, "ready", 10)
    child.stop(timeout=0.3)
    assert child.process.returncode == -signal.SIGKILL
    assert "ignored SIGTERM" in capsys.readouterr().out


def test_stop_is_idempotent_on_an_exited_child() -> None:
    child = python_child("pass", pipe_stdout=False)
    child.process.wait(10)
    child.stop()
    child.stop()
    assert child.process.returncode == 0


@pytest.fixture
def http_url() -> Iterator[str]:
    with recording_server() as recording:
        yield recording.base


def test_wait_for_http_returns_on_200(http_url: str) -> None:
    child = python_child("import time; time.sleep(30)", pipe_stdout=False)
    try:
        run.wait_for_http(child, f"{http_url}/ok", 10)
    finally:
        child.stop()


def test_wait_for_http_times_out_on_other_statuses(http_url: str) -> None:
    child = python_child("import time; time.sleep(30)", pipe_stdout=False)
    try:
        with pytest.raises(DevRunError, match="did not answer"):
            run.wait_for_http(child, f"{http_url}/missing", 0.5)
    finally:
        child.stop()


def test_wait_for_http_fails_fast_when_the_child_exits(http_url: str) -> None:
    child = python_child("raise SystemExit(4)", pipe_stdout=False)
    child.process.wait(10)
    with pytest.raises(DevRunError, match=r"exited \(status 4\)"):
        run.wait_for_http(child, f"{http_url}/missing", 10)


def test_mint_token_returns_stdout_stripped() -> None:
    config = DevConfig(python="/bin/echo")
    assert run.mint_token(config, {}).startswith("-m mock_idp token --keys ")


def test_mint_token_reports_a_failure() -> None:
    with pytest.raises(DevRunError, match=r"mock_idp token failed \(1\)"):
        run.mint_token(DevConfig(python="/bin/false"), {})


def test_stack_wait_returns_1_when_a_server_exits_by_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stack = run.DevStack(CONFIG, base_env={})
    stack.children = [
        python_child("import time; time.sleep(30)", pipe_stdout=False),
        python_child("raise SystemExit(2)", pipe_stdout=False),
    ]
    try:
        assert stack.wait() == 1
    finally:
        stack.stop()
    assert "child exited (status 2)" in capsys.readouterr().out
    assert stack.children == []
