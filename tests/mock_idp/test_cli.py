"""``python -m mock_idp``: serve and token, in-process and as a real subprocess."""

from __future__ import annotations

import errno
import io
import os
import selectors
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from mock_idp.cli import main, parse_claim, port_number
from mock_idp.idp import MockIdP
from mock_idp.keys import KeyRing, KeyState
from mock_idp.pytest_plugin import MockIdPKeys
from mock_idp.server import MockIdPServer

pytestmark = pytest.mark.live
ISSUER = "https://tenant.mock-idp.test/"


@pytest.fixture
def keys_file(tmp_path: Path, mock_idp_keys: MockIdPKeys) -> Path:
    path = tmp_path / "keys.json"
    KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).save(path)
    return path


def verify(token: str, jwks: dict[str, Any], issuer: str, audience: str) -> dict[str, Any]:
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer, audience=audience)


def test_parse_claim() -> None:
    assert parse_claim("n=1") == ("n", 1)
    assert parse_claim("f=1.5") == ("f", 1.5)
    assert parse_claim('p=["a"]') == ("p", ["a"])
    assert parse_claim("s=plain text") == ("s", "plain text")
    assert parse_claim("e=") == ("e", "")
    with pytest.raises(Exception, match="NAME=VALUE"):
        parse_claim("novalue")
    with pytest.raises(Exception, match="NAME=VALUE"):
        parse_claim("=x")


def test_token_in_process(keys_file: Path, mock_idp_keys: MockIdPKeys) -> None:
    out = io.StringIO()
    argv = ["token", "--keys", str(keys_file), "--issuer", ISSUER, "--audience", "https://a"]
    argv += ["--scope", "read:messages", "--claim", 'permissions=["read:messages"]']
    argv += ["--claim", "note=hello", "--expires-in", "60", "--client-id", "cli"]
    assert main(argv, out) == 0
    token = out.getvalue().strip()
    assert "\n" not in token
    jwks = KeyRing.load(keys_file).jwks()
    claims = verify(token, jwks, ISSUER, "https://a")
    assert claims["scope"] == "read:messages"
    assert claims["permissions"] == ["read:messages"]
    assert claims["note"] == "hello"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["sub"] == "cli@clients"


def test_token_creates_the_keys_file_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Said on stderr: a mistyped path mints with a key no running IdP publishes (review)."""
    path = tmp_path / "new" / "keys.json"
    out = io.StringIO()
    assert main(["token", "--keys", str(path), "--issuer", ISSUER, "--audience", "a"], out) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert capsys.readouterr().err == (
        f"mock_idp: {path} did not exist: created it with a new signing key\n"
    )
    out2 = io.StringIO()
    main(["token", "--keys", str(path), "--issuer", ISSUER, "--audience", "a"], out2)
    kids = {jwt.get_unverified_header(o.getvalue().strip())["kid"] for o in (out, out2)}
    assert len(kids) == 1  # reused, not regenerated
    assert capsys.readouterr().err == ""


def test_a_keys_file_others_could_read_is_made_private(
    keys_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys_file.chmod(0o644)
    argv = ["token", "--keys", str(keys_file), "--issuer", ISSUER, "--audience", "a"]
    assert main(argv, io.StringIO()) == 0
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert "now mode 0600" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not json", "not a mock_idp keys file"),
        ("[]", "not a mock_idp keys file"),
        ('{"format": "mock_idp keys v1"}', "not a mock_idp keys file"),
        (None, "no key is in the SIGNING state"),  # a valid file whose key is retired
    ],
)
def test_a_keys_file_that_cannot_serve_is_one_line_and_exit_1(
    tmp_path: Path,
    mock_idp_keys: MockIdPKeys,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    says: str,
) -> None:
    path = tmp_path / "keys.json"
    if content is None:
        KeyRing([(mock_idp_keys.primary, KeyState.RETIRED)]).save(path)
    else:
        path.write_text(content)
        path.chmod(0o600)
    argv = ["token", "--keys", str(path), "--issuer", ISSUER, "--audience", "a"]
    assert main(argv, io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err.startswith("mock_idp: ")
    assert says in err
    assert "Traceback" not in err
    if content is not None:
        assert path.read_text() == content  # never overwritten


def test_serving_on_a_port_in_use_is_one_line_and_exit_1(
    keys_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        argv = ["serve", "--port", str(port), "--keys", str(keys_file), "--issuer", ISSUER]
        assert main(argv, io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"mock_idp: [Errno {errno.EADDRINUSE}] 127.0.0.1 port {port}: ")
    assert "in use" in err
    assert "Traceback" not in err


def test_a_keys_path_that_is_a_directory_is_one_line_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o755)
    argv = ["token", "--keys", str(directory), "--issuer", ISSUER, "--audience", "a"]
    assert main(argv, io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err.startswith("mock_idp: ")
    assert str(directory) in err
    assert "Traceback" not in err
    assert "others could read" not in err
    assert stat.S_IMODE(directory.stat().st_mode) == 0o755


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "serve" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "issuer", "said"),
    [
        ("serve", "http://[::1:18556/", "is not a URL"),
        ("serve", "tenant.example", "is not an http(s) URL with a host"),
        ("serve", "ftp://tenant.example/", "is not an http(s) URL with a host"),
        ("serve", "https:///tenant/", "is not an http(s) URL with a host"),  # mutation testing
        ("token", "http://[", "is not a URL"),
    ],
)
def test_an_issuer_that_cannot_serve_is_a_usage_error(
    keys_file: Path, capsys: pytest.CaptureFixture[str], command: str, issuer: str, said: str
) -> None:
    """``serve`` had printed "serving" and then hung up on every request (found by review)."""
    extra = ["--audience", "https://api.example.test"] if command == "token" else ["--port", "0"]
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--keys", str(keys_file), "--issuer", issuer, *extra])
    assert exit_info.value.code == 2
    assert f"argument --issuer: {issuer!r} {said}" in capsys.readouterr().err


def test_serve_s_help_names_where_it_listens_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "localhost (default: 127.0.0.1)" in text
    assert "--port PORT (default: 8001)" in text


def test_help_is_plain_text_and_names_the_default_audience(
    capsys: pytest.CaptureFixture[str],
) -> None:
    texts = []
    for argv in (["--help"], ["serve", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        texts.append(" ".join(capsys.readouterr().out.split()))
    assert not any("``" in text for text in texts)
    assert "python -m mock_idp: serve the IdP on a socket, or mint a token offline" in texts[0]
    assert "audience parameter (default: https://api.example.test)" in texts[1]


class _LineOut(io.StringIO):
    """Signals when a full line has been written."""

    def __init__(self) -> None:
        super().__init__()
        self.line_written = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "\n" in self.getvalue():
            self.line_written.set()
        return written


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("receiver", ["the process", "another thread"])
def test_serve_in_process_until_a_signal(keys_file: Path, signum: int, receiver: str) -> None:
    """serve() stops on a signal that another thread catches, or that arrives as it blocks.

    CI hung here twice (py310, py312, under tox's load): SIGTERM sent, serve() still waiting.
    "another thread" makes the miss certain: the signal goes to the thread that sends it.
    """
    out = _LineOut()
    before = signal.getsignal(signum)
    answers: list[int] = []
    main_thread = threading.get_ident()
    served = threading.Event()
    rescued: list[int] = []

    def drive() -> None:
        try:
            if out.line_written.wait(60):  # written once the handlers are installed
                url = out.getvalue().split()[2]
                answers.append(requests.get(url + ".well-known/jwks.json", timeout=30).status_code)
        finally:  # whatever happened above: a failure must fail the test, never hang it
            if receiver == "the process":
                os.kill(os.getpid(), signum)
            else:
                signal.pthread_kill(threading.get_ident(), signum)
            if not served.wait(30):  # serve() missed it: wake it in its own thread
                rescued.append(signum)
                signal.pthread_kill(main_thread, signum)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    argv = ["serve", "--port", "0", "--keys", str(keys_file)]
    if signum == signal.SIGINT:
        argv += ["--audience", "https://a"]
    try:
        assert main(argv, out) == 0
    finally:
        served.set()
        driver.join(60)
    assert not rescued, "serve() did not stop until the signal reached its own thread"
    assert answers == [200]
    line = out.getvalue()
    assert line.startswith("mock_idp serving http://127.0.0.1:")
    url = line.split()[2]
    assert line.strip() == f"mock_idp serving {url} (issuer {url})"
    assert signal.getsignal(signum) == before


@pytest.fixture
def served(keys_file: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "mock_idp", "serve", "--port", "0", "--keys", str(keys_file)]
    command += ["--issuer", ISSUER]
    # The "serving" line must be flushed by serve itself: a pipe is block-buffered otherwise.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        with selectors.DefaultSelector() as selector:
            assert process.stdout is not None
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "the server did not start"
            line = process.stdout.readline()
        yield process, line
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_serve_subprocess_and_cli_token_interoperate(
    served: tuple[subprocess.Popen[str], str], keys_file: Path
) -> None:
    process, line = served
    assert line.startswith("mock_idp serving http://127.0.0.1:")
    assert line.endswith(f"(issuer {ISSUER})\n")
    url = line.split()[2]
    jwks = requests.get(url + ".well-known/jwks.json", timeout=30).json()
    minted = subprocess.run(
        [
            *(sys.executable, "-m", "mock_idp", "token", "--keys", str(keys_file)),
            *("--issuer", ISSUER, "--audience", "https://api.example.test"),
            *("--scope", "read:messages"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    claims = verify(minted.stdout.strip(), jwks, ISSUER, "https://api.example.test")
    assert claims["scope"] == "read:messages"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_serve_subprocess_stops_on_sigint(served: tuple[subprocess.Popen[str], str]) -> None:
    process, _line = served
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_module_entry_point(
    keys_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import runpy

    argv = ["mock_idp", "token", "--keys", str(keys_file), "--issuer", ISSUER, "--audience", "a"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("mock_idp", run_name="__main__")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.count(".") == 2


# -- pinned by a mutation run of mock_idp ---------------------------------------------------


def test_a_group_readable_keys_file_is_made_private(
    tmp_path: Path, mock_idp_keys: MockIdPKeys
) -> None:
    path = tmp_path / "keys.json"
    KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).save(path)
    path.chmod(0o640)
    argv = ["token", "--keys", str(path), "--issuer", "https://i/", "--audience", "a"]
    assert main(argv, io.StringIO()) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_serve_uses_the_audience(
    tmp_path: Path, mock_idp_keys: MockIdPKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mock_idp.cli as cli

    path = tmp_path / "keys.json"
    KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).save(path)
    seen: list[MockIdP] = []

    class Stop(Exception):
        pass

    class Capture(MockIdPServer):
        def __enter__(self) -> MockIdPServer:
            seen.append(self.idp)
            raise Stop

    monkeypatch.setattr(cli, "MockIdPServer", Capture)
    with pytest.raises(Stop):
        main(
            ["serve", "--port", "0", "--keys", str(path), "--audience", "https://a"], io.StringIO()
        )
    assert seen[0].audience == "https://a"


def test_a_value_json_cannot_parse_as_a_number_stays_a_string() -> None:
    from mock_idp.cli import parse_claim

    digits = "1" * 5000  # over CPython's int max_str_digits: ValueError, not JSONDecodeError
    assert parse_claim(f"n={digits}") == ("n", digits)


@pytest.mark.parametrize("raw", ["NaN", "-Infinity", "Infinity", "1e999", "-1e999"])
def test_a_value_that_is_not_strict_json_stays_a_string(raw: str) -> None:
    """RFC 8259 has no NaN or Infinity: a token's payload never holds them."""
    assert parse_claim(f"x={raw}") == ("x", raw)


def test_a_claim_nested_too_deeply_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["token", "--keys", "k.json", "--issuer", ISSUER, "--audience", "a"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--claim", "x=" + "[" * 100_000])
    assert exit_info.value.code == 2
    assert "nested too deeply" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--keys", "k.json", "--port", "65536"],
        ["serve", "--keys", "k.json", "--port", "-1"],
        ["serve", "--keys", "k.json", "--port", "http"],
        ["serve", "--keys", "k.json", "--issuer", ""],
        ["token", "--keys", "k.json", "--issuer", "", "--audience", "a"],
        ["token", "--keys", "k.json", "--issuer", ISSUER, "--audience", ""],
        ["token", "--keys", "k.json", "--issuer", ISSUER, "--audience", "a", "--client-id", ""],
    ],
)
def test_out_of_range_ports_and_empty_names_are_usage_errors(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "0-65535" in err or "must not be empty" in err or "'http' is not a port number" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # noqa: S104 - refused, the point
        "",
        "192.0.2.1",
        "::",
        "example.com",
        "\udcff",
    ],
)
def test_serve_listens_on_loopback_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    """It mints valid tokens for whoever asks: never on a reachable address. A usage error,
    before any keys file is made."""
    keys = tmp_path / "keys.json"
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--host", host, "--port", "0", "--keys", str(keys)], io.StringIO())
    assert exit_info.value.code == 2
    assert "the mock IdP serves on loopback only" in capsys.readouterr().err
    assert not keys.exists()


def test_a_symbolic_link_to_a_keys_file_is_followed(
    tmp_path: Path, mock_idp_keys: MockIdPKeys
) -> None:
    """Only a dangling link is refused (found by mutation testing)."""
    target = tmp_path / "real-keys.json"
    KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).save(target)
    link = tmp_path / "keys.json"
    link.symlink_to(target)
    out = io.StringIO()
    argv = ["token", "--keys", str(link), "--issuer", ISSUER, "--audience", "a"]
    assert main(argv, out) == 0
    assert jwt.get_unverified_header(out.getvalue().strip())["kid"] == mock_idp_keys.primary.kid


def test_a_dangling_symbolic_link_as_keys_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "keys.json"
    link.symlink_to(tmp_path / "gone.json")
    argv = ["token", "--keys", str(link), "--issuer", ISSUER, "--audience", "a"]
    assert main(argv, io.StringIO()) == 1
    assert "a symbolic link to a missing file" in capsys.readouterr().err
    assert link.is_symlink()
    assert not (tmp_path / "gone.json").exists()


@pytest.mark.parametrize("state", [KeyState.RETIRED, KeyState.PUBLISHED])
def test_serve_refuses_a_keys_file_with_no_signing_key(
    tmp_path: Path, mock_idp_keys: MockIdPKeys, capsys: pytest.CaptureFixture[str], state: KeyState
) -> None:
    """/oauth/token would have nothing to sign with: say so now, not as a 500 later (a key
    published but not signing too: found by mutation testing)."""
    path = tmp_path / "keys.json"
    KeyRing([(mock_idp_keys.primary, state)]).save(path)
    answers: list[int] = []
    serving = threading.Thread(  # bounded: a serve that starts would never return
        target=lambda: answers.append(main(["serve", "--port", "0", "--keys", str(path)])),
        daemon=True,
    )
    serving.start()
    serving.join(30)
    assert answers == [1]
    assert "no key is in the SIGNING state" in capsys.readouterr().err


def test_ctrl_c_before_serving_is_exit_130_without_a_traceback(
    keys_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(path: Path) -> KeyRing:
        raise KeyboardInterrupt

    monkeypatch.setattr("mock_idp.cli.load_or_create_keys", interrupted)
    assert main(["serve", "--port", "0", "--keys", str(keys_file)], io.StringIO()) == 130
    assert capsys.readouterr().err == ""


def test_a_file_that_is_not_a_keys_file_keeps_its_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a file that loads as keys is made private: ``--keys README`` changes nothing."""
    other = tmp_path / "notes.txt"
    other.write_text("notes")
    other.chmod(0o644)
    link = tmp_path / "link.json"
    link.symlink_to(other)
    for path in (other, link):
        argv = ["token", "--keys", str(path), "--issuer", ISSUER, "--audience", "a"]
        assert main(argv, io.StringIO()) == 1
    assert stat.S_IMODE(other.stat().st_mode) == 0o644
    err = capsys.readouterr().err
    assert "not a mock_idp keys file" in err
    assert "others could read" not in err


def test_processes_creating_the_keys_file_at_once_share_one_key(
    tmp_path: Path, mock_idp_keys: MockIdPKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process creates the file while this one generates its key: this one takes the
    key on disk, so its tokens verify against the JWKS any of them serves."""
    from mock_idp import cli

    path = tmp_path / "keys.json"
    theirs = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    ours = KeyRing([(mock_idp_keys.secondary, KeyState.SIGNING)])

    def generate_while_another_process_saves() -> KeyRing:
        theirs.save(path)
        return ours

    monkeypatch.setattr(KeyRing, "generate", generate_while_another_process_saves)
    loaded = cli.load_or_create_keys(path)
    assert loaded.signing_key.kid == mock_idp_keys.primary.kid
    assert KeyRing.load(path).signing_key.kid == mock_idp_keys.primary.kid


@pytest.mark.parametrize("missing", ["--keys", "--issuer"])
def test_token_needs_its_keys_and_issuer(
    keys_file: Path, missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by mutation testing: either could be dropped from the command line unnoticed."""
    given = {"--keys": str(keys_file), "--issuer": ISSUER, "--audience": "a"}
    argv = [
        "token",
        *(x for name, value in given.items() if name != missing for x in (name, value)),
    ]
    with pytest.raises(SystemExit) as exited:
        main(argv, io.StringIO())
    assert exited.value.code == 2
    assert f"the following arguments are required: {missing}" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "65535"])
def test_the_ports_at_either_end_of_the_range_are_taken(port: str) -> None:
    assert port_number(port) == int(port)
