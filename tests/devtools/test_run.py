"""The ``make run`` dev runner (devtools/run.py): commands, environment, curl lines, processes."""

from __future__ import annotations

import datetime
import itertools
import os
import shlex
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devtools import run
from devtools.processes import PROJECT_ROOT, no_control_socket
from devtools.run import DevConfig, DevRunError
from tests.process_checks import free_ports
from tests.recording_server import recording_server

CONFIG = DevConfig(api_port=8100, idp_port=8101, state_dir=Path("/srv/state"), python="py")


def test_config_derives_urls_and_keys_file() -> None:
    assert CONFIG.api_url == "http://127.0.0.1:8100"
    assert CONFIG.issuer == "http://127.0.0.1:8101/"
    assert CONFIG.keys_file == Path("/srv/state/mock_idp_keys.json")


def test_default_config_keeps_keys_in_gitignored_var() -> None:
    config = DevConfig()
    assert (config.api_port, config.idp_port) == (8000, 8001)
    assert config.keys_file.parent == PROJECT_ROOT / "var"
    gitignore = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
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
    """As gunicorn itself parses the option, where it has a control socket (25.1 and later)."""
    gunicorn_config = pytest.importorskip("gunicorn.config")
    names = {setting.name for setting in gunicorn_config.KNOWN_SETTINGS}
    if "control_socket_disable" not in names:  # gunicorn before 25.1 (the lowest deps: 23)
        assert no_control_socket() == []
        return
    parsed = gunicorn_config.Config().parser().parse_args(["app", *no_control_socket()])
    assert parsed.control_socket_disable is True


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


def test_refusal_lines_show_a_401_and_a_403() -> None:
    lines = [shlex.split(line) for line in run.refusal_lines(CONFIG, "no.sco.pe")]
    assert lines == [
        ["curl", "-i", "http://127.0.0.1:8100/api/private"],
        [
            "curl", "-i", "-H", "Authorization: Bearer no.sco.pe",
            "http://127.0.0.1:8100/api/private-scoped",
        ],
    ]  # fmt: skip


def test_banner_lists_every_line() -> None:
    text = run.banner(CONFIG, "tok.en.value", "no.sco.pe")
    lines = [
        *run.curl_lines(CONFIG, "tok.en.value"),
        *run.refusal_lines(CONFIG, "no.sco.pe"),
        run.token_request_line(CONFIG),
    ]
    for line in lines:
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
    child = python_child(
        "import sys; print('err-line', file=sys.stderr, flush=True); "
        "print('booting'); print('mock_idp serving http://x/'); print('after')"
    )
    try:
        assert run.wait_for_line(child, "mock_idp serving", 10) == "mock_idp serving http://x/"
        child.process.wait(10)
    finally:
        child.stop()
    out, err = capfd.readouterr()
    assert "[child] booting\n[child] mock_idp serving http://x/\n[child] after\n" in out
    assert "err-line" in err  # stderr is the child's own, not queued or prefixed
    assert "err-line" not in out


def test_wait_for_line_fails_when_the_child_exits_first() -> None:
    child = python_child("import sys; print('nope'); sys.exit(3)")
    with pytest.raises(DevRunError, match=r"exited \(status 3\)"):
        run.wait_for_line(child, "mock_idp serving", 10)
    child.stop()


def test_wait_for_line_times_out() -> None:
    child = python_child("import time; time.sleep(30)")
    started = time.monotonic()
    try:
        with pytest.raises(DevRunError, match="no 'ready' line"):
            run.wait_for_line(child, "ready", 0.3)
        # not a timing assertion: ignoring its timeout, it would wait for the child's 30 s
        assert time.monotonic() - started < 10
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
    started = time.monotonic()
    child.stop(timeout=0.3)
    assert time.monotonic() - started < 10  # ignoring its timeout, it would wait 30 s
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


def test_wait_for_http_fails_fast_naming_the_child_that_exited(http_url: str) -> None:
    child = python_child("raise SystemExit(4)", pipe_stdout=False)
    child.process.wait(10)
    with pytest.raises(DevRunError, match=r"^child exited \(status 4\)"):
        run.wait_for_http(child, f"{http_url}/missing", 10)


def test_mint_token_returns_stdout_stripped() -> None:
    config = DevConfig(python="/bin/echo")
    assert run.mint_token(config, {}).startswith("-m mock_idp token --keys ")


def test_mint_token_reports_a_failure() -> None:
    with pytest.raises(DevRunError, match=r"mock_idp token failed \(1\)"):
        run.mint_token(DevConfig(python="/bin/false"), {})
    with pytest.raises(DevRunError, match=r"mock_idp token failed \(0\)"):
        run.mint_token(DevConfig(python="/bin/true"), {})  # exit 0, but no token


def fake_python(tmp_path: Path, body: str) -> str:
    """A ``python`` for ``DevConfig`` that runs ``body`` (sh) whatever it is asked."""
    path = tmp_path / "fakepython"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_mint_token_takes_no_token_from_a_command_that_failed(tmp_path: Path) -> None:
    """Whatever it printed first (found by mutation testing: only silent failures were tried)."""
    python = fake_python(tmp_path, "echo eyJ.partial.token; echo 'keys unreadable' >&2; exit 3")
    with pytest.raises(DevRunError, match=r"mock_idp token failed \(3\): keys unreadable"):
        run.mint_token(DevConfig(python=python), {})


def test_mint_token_runs_in_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run.mint_token(DevConfig(python=fake_python(tmp_path, "pwd")), {}) == str(PROJECT_ROOT)


def test_a_hung_mint_is_a_devtools_error_not_a_traceback(tmp_path: Path) -> None:
    config = DevConfig(python=fake_python(tmp_path, "exec sleep 30"), startup_timeout=0.3)
    with pytest.raises(DevRunError, match=r"did not finish within 0\.3 s"):
        run.mint_token(config, {})


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


CUSTOM = DevConfig(
    api_port=8100,
    idp_port=8101,
    audience="https://custom.test",
    state_dir=Path("/srv/s"),
    python="py",
)


def options(argv: list[str]) -> dict[str, str]:
    return dict(itertools.pairwise(argv))


def test_a_custom_audience_and_scope_reach_every_command() -> None:
    assert options(run.idp_command(CUSTOM))["--audience"] == "https://custom.test"
    token = options(run.token_command(CUSTOM, scope="write:x"))
    assert (token["--audience"], token["--scope"]) == ("https://custom.test", "write:x")
    assert run.api_env(CUSTOM, {})["AUTH0_AUDIENCE"] == "https://custom.test"
    assert shlex.split(run.token_request_line(CUSTOM, "write:x"))[-1] == "scope=write:x"
    assert "--scope write:x" in run.mint_token(DevConfig(python="/bin/echo"), {}, scope="write:x")
    assert run.parse_args(["--audience", "https://custom.test"]).audience == "https://custom.test"


def test_the_api_runs_one_threaded_worker_logging_access_to_stdout() -> None:
    argv = options(run.api_command(CUSTOM))
    pinned = ("--workers", "--threads", "--graceful-timeout", "--access-logfile")
    assert {name: argv[name] for name in pinned} == {
        "--workers": "1",
        "--threads": "4",
        "--graceful-timeout": "5",
        "--access-logfile": "-",
    }


def test_the_api_answers_localhost_too() -> None:
    assert run.api_env(CUSTOM, {})["DJANGO_ALLOWED_HOSTS"].split(",") == ["127.0.0.1", "localhost"]


def test_the_banner_states_the_token_s_lifetime_issuer_and_audience() -> None:
    text = run.banner(CUSTOM, "t", "u")
    assert "valid for 60 minutes" in text
    assert f"(mock IdP {CUSTOM.issuer}, audience {CUSTOM.audience})" in text


def test_ensure_port_free_probes_127_0_0_1_only() -> None:
    """A listener on another loopback address leaves the port free on 127.0.0.1. Another
    process may hold the same number on 127.0.0.1 by chance (a parallel tox env's connection:
    seen once in CI), so each of five ports is tried; probing 0.0.0.0 would fail every one."""
    refusals = []
    for _ in range(5):
        with socket.socket() as other:
            other.bind(("127.0.0.2", 0))
            other.listen()
            try:
                run.ensure_port_free(other.getsockname()[1], "API")
                return
            except DevRunError as exc:
                refusals.append(str(exc))
    pytest.fail(f"a listener on 127.0.0.2 made each port busy: {refusals}")


def test_the_state_dir_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run.parse_args(["--state-dir", "rel"]).state_dir == tmp_path / "rel"
    assert run.parse_args([]).state_dir == PROJECT_ROOT / "var"


def test_spawn_without_a_pipe_leaves_stdout_alone() -> None:
    child = python_child("pass", pipe_stdout=False)
    try:
        assert child.process.stdout is None
        assert child.pump is None
    finally:
        child.stop()


def test_wait_for_line_matches_at_the_start_of_a_line_only() -> None:
    child = python_child("print('not ready yet'); print('ready now')")
    try:
        assert run.wait_for_line(child, "ready", 10) == "ready now"
    finally:
        child.stop()


def test_stop_waits_for_the_echo_to_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    echoed: list[str] = []

    def slow_print(*args: object, **kwargs: object) -> None:
        time.sleep(0.05)
        echoed.append(str(args[0]))

    monkeypatch.setattr("builtins.print", slow_print)
    child = python_child("for i in range(5): print(i)")
    child.process.wait(10)
    child.stop()
    assert len(echoed) == 5
    assert child.pump is not None
    assert not child.pump.is_alive()


def test_the_stack_keeps_the_environment_it_was_given() -> None:
    assert run.DevStack(CUSTOM, base_env={"X": "1"}).base_env == {"X": "1"}


class Spawned(Exception):
    """Raised by a stand-in for ``run.spawn``, so ``start`` stops there."""


def test_start_makes_a_private_state_dir_and_unbuffered_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, str] = {}

    def spawn(name: str, argv: list[str], env: dict[str, str], *, pipe_stdout: bool) -> run.Child:
        seen.update(env)
        raise Spawned

    monkeypatch.setattr(run, "spawn", spawn)
    state = tmp_path / "a" / "b" / "var"
    api_port, idp_port = free_ports(2)
    with pytest.raises(Spawned):
        run.DevStack(DevConfig(api_port=api_port, idp_port=idp_port, state_dir=state), {}).start()
    assert state.stat().st_mode & 0o777 == 0o700
    assert seen["PYTHONUNBUFFERED"] == "1"


def test_start_names_a_busy_idp_port(tmp_path: Path, listening_port: int) -> None:
    (api_port,) = free_ports(1)
    config = DevConfig(api_port=api_port, idp_port=listening_port, state_dir=tmp_path)
    stack = run.DevStack(config, {})
    with pytest.raises(DevRunError, match=r"IdP port .* IDP_PORT="):
        stack.start()
    assert stack.children == []


def test_start_waits_for_the_idp_s_line_then_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    monkeypatch.setattr(run, "idp_command", lambda config: sleeper)
    monkeypatch.setattr(run, "api_command", lambda config: sleeper)
    api_port, idp_port = free_ports(2)
    config = DevConfig(
        api_port=api_port, idp_port=idp_port, state_dir=tmp_path, startup_timeout=0.3
    )
    stack = run.DevStack(config, {})
    try:
        with pytest.raises(DevRunError, match="mock_idp printed no 'mock_idp serving' line"):
            stack.start()
        stack.stop()
        monkeypatch.setattr(run, "wait_for_line", lambda *args: "mock_idp serving")
        with pytest.raises(DevRunError, match="did not answer"):
            stack.start()
    finally:
        stack.stop()


def test_the_stack_stops_the_api_before_the_idp() -> None:
    order: list[str] = []

    class Recorded:
        def __init__(self, name: str) -> None:
            self.name = name

        def stop(self) -> None:
            order.append(self.name)

    stack = run.DevStack(CUSTOM, {})
    stack.children = [Recorded("mock_idp"), Recorded("api")]  # type: ignore[list-item]
    stack.stop()
    assert order == ["api", "mock_idp"]


def test_a_second_signal_while_stopping_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[bool] = []

    def start(self: run.DevStack) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # pragma: no cover - the signal interrupts it

    def stop(self: run.DevStack) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        stopped.append(True)

    monkeypatch.setattr(run.DevStack, "start", start)
    monkeypatch.setattr(run.DevStack, "stop", stop)
    before = {sig: signal.getsignal(sig) for sig in run.STOP_SIGNALS}
    assert run.main(["--api-port", "1", "--idp-port", "2"]) == 0
    assert stopped == [True]
    # The caller's handlers are back (found by mutation testing: they stayed SIG_IGN).
    assert {sig: signal.getsignal(sig) for sig in run.STOP_SIGNALS} == before


def test_the_access_log_shows_no_token_sent_in_the_query_a_referrer_or_a_header() -> None:
    """The access log line as gunicorn renders it from the options ``api_command`` passes: a
    token in ``?access_token=`` (refused, but logged), a referrer or ``Authorization`` is absent."""
    gunicorn_config = pytest.importorskip("gunicorn.config")
    glogging = pytest.importorskip("gunicorn.glogging")
    parsed = gunicorn_config.Config().parser().parse_args(run.api_command(CONFIG)[3:])
    config = gunicorn_config.Config()
    config.set("access_log_format", parsed.access_log_format)
    secret = "eyJhbGciOiJSUzI1NiJ9.query-token-material.c2ln"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/private?access_token={secret}",
        "PATH_INFO": "/api/private",
        "QUERY_STRING": f"access_token={secret}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://127.0.0.1:8100/?access_token={secret}",
        "HTTP_USER_AGENT": "curl/8.5.0",
    }
    response = SimpleNamespace(status="401 Unauthorized", sent=0, headers=[])
    request = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {secret}")])
    logger = glogging.Logger(config)
    atoms = logger.atoms(response, request, environ, datetime.timedelta(milliseconds=3))
    line = config.access_log_format % logger.atoms_wrapper_class(atoms)
    assert '"GET /api/private HTTP/1.1" 401' in line  # the request is logged...
    assert secret not in line  # ...without its query string, referrer or headers


def test_ensure_port_free_ignores_connections_lingering_in_time_wait() -> None:
    """A previous run's connection closed by the server waits in TIME_WAIT on its port."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            accepted, _ = listener.accept()
            accepted.close()  # the server's end closes first, so it is the one left waiting
            assert client.recv(1) == b""
    run.ensure_port_free(port, "API")


def test_start_names_a_busy_api_port(
    tmp_path: Path, listening_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def spawn(*args: object, **kwargs: object) -> run.Child:
        raise Spawned

    monkeypatch.setattr(run, "spawn", spawn)
    (idp_port,) = free_ports(1)
    config = DevConfig(api_port=listening_port, idp_port=idp_port, state_dir=tmp_path)
    stack = run.DevStack(config, {})
    with pytest.raises(DevRunError, match=r"API port .* API_PORT="):
        stack.start()
    assert stack.children == []


def test_start_pins_the_api_to_the_mock_idp_and_mints_a_scoped_and_an_unscoped_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The banner's 200s and its 403 need both tokens; a developer's AUTH0_* settings (their
    ``.env`` exported) must not reach the API."""
    envs: dict[str, dict[str, str]] = {}

    def spawn(name: str, argv: list[str], env: dict[str, str], *, pipe_stdout: bool) -> Any:
        envs[name] = dict(env)
        return SimpleNamespace(name=name, stop=lambda: None)

    def mint_token(config: DevConfig, env: object, scope: str = run.DEFAULT_SCOPE) -> str:
        return f"token for [{scope}]"

    monkeypatch.setattr(run, "spawn", spawn)
    monkeypatch.setattr(run, "wait_for_line", lambda *args: "mock_idp serving")
    monkeypatch.setattr(run, "wait_for_http", lambda *args: None)
    monkeypatch.setattr(run, "mint_token", mint_token)
    api_port, idp_port = free_ports(2)
    config = DevConfig(api_port=api_port, idp_port=idp_port, state_dir=tmp_path)
    tenant = {"AUTH0_ISSUER": "https://tenant.us.auth0.com/", "AUTH0_AUDIENCE": "https://real"}
    stack = run.DevStack(config, tenant)
    stack.start()
    assert sorted(envs) == ["api", "mock_idp"]
    assert envs["api"]["AUTH0_ISSUER"] == config.issuer
    assert envs["api"]["AUTH0_AUDIENCE"] == config.audience
    assert (stack.token, stack.unscoped_token) == ("token for [read:messages]", "token for []")


def test_main_reports_a_stack_that_cannot_start_and_returns_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def start(self: run.DevStack) -> None:
        raise DevRunError("the mock IdP would not start")

    monkeypatch.setattr(run.DevStack, "start", start)
    assert run.main(["--api-port", "1", "--idp-port", "2"]) == 1
    assert "devtools: the mock IdP would not start" in capsys.readouterr().err
