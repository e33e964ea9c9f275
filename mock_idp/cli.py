"""``python -m mock_idp``: serve the IdP on a socket, or mint a token offline.

    python -m mock_idp serve --port 8001 --keys var/mock_idp_keys.json [--issuer URL]
    python -m mock_idp token --keys var/mock_idp_keys.json --issuer URL --audience AUD \\
        --scope "read:messages" [--claim k=v ...] [--expires-in S]

The keys file is created on first use (mode 0600) and reused, so a token minted by ``token``
verifies against the JWKS that ``serve`` publishes with the same file and issuer.
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import urlsplit

from .idp import DEFAULT_AUDIENCE, MockIdP
from .keys import KeyRing, KeyState
from .server import MockIdPServer, is_loopback

#: How often ``serve`` wakes up to run signal handlers. Python runs them in the main thread, only
#: between bytecodes: a signal caught just before that thread blocks, or by another thread (the
#: server's), would leave a wait without a timeout asleep for good.
SIGNAL_POLL_SECONDS = 0.2


def load_or_create_keys(path: Path) -> KeyRing:
    """The keys saved at ``path``; a fresh RSA-2048 signing key is saved there first if absent.

    Creating is one atomic step, so processes started together all end with the key on disk.
    An existing keys file others may read is made the owner's alone (0600), as ``save``
    writes it; a file that is not a keys file is left as it is.
    """
    if path.is_symlink() and not path.exists():
        raise FileNotFoundError(errno.ENOENT, "a symbolic link to a missing file", str(path))
    if not path.exists():
        ring = KeyRing.generate()
        try:
            ring.save(path, exclusive=True)
        except FileExistsError:  # another process created it first: share its keys
            pass
        else:
            # A mistyped path would otherwise mint tokens no running IdP publishes a key for.
            note = f"mock_idp: {path} did not exist: created it with a new signing key"
            print(note, file=sys.stderr)
            return ring
    ring = KeyRing.load(path)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
        warning = f"mock_idp: {path} held private keys others could read; now mode 0600"
        print(warning, file=sys.stderr)
    return ring


def parse_claim(text: str) -> tuple[str, Any]:
    """``k=v``; ``v`` is parsed as JSON when it is valid JSON, else kept as a string."""
    name, separator, raw = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
        json.dumps(value, allow_nan=False)  # NaN, Infinity, 1e999: no JSON (RFC 8259 section 6)
    except ValueError:
        return name, raw
    except RecursionError:
        raise argparse.ArgumentTypeError(f"{name}: JSON nested too deeply") from None
    return name, value


def port_number(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not in 0-65535")
    return port


def loopback_host(text: str) -> str:
    """``localhost`` or a loopback address: the IdP mints valid tokens for whoever asks."""
    if not is_loopback(text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: the mock IdP serves on loopback only (127.0.0.0/8, ::1, localhost)"
        )
    return text


def non_empty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def issuer_claim(text: str) -> str:
    """The ``iss`` of minted tokens: any text a URL parser reads (``http://[::1`` is none)."""
    try:
        urlsplit(non_empty(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL: {exc}") from None
    return text


def served_issuer(text: str) -> str:
    """The URL ``serve`` answers as: an http(s) URL with a host, since its path routes every
    request (RFC 8414 section 2)."""
    parts = urlsplit(issuer_claim(text))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL with a host")
    return text


def build_parser() -> argparse.ArgumentParser:
    summary = __doc__.split("\n")[0].replace("``", "")  # plain text, not reST, in --help
    parser = argparse.ArgumentParser(prog="python -m mock_idp", description=summary)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve discovery, JWKS and /oauth/token")
    serve.add_argument(
        "--host",
        type=loopback_host,
        default="127.0.0.1",
        help="a loopback address, or localhost (default: %(default)s)",
    )
    serve.add_argument("--port", type=port_number, default=8001, help="(default: %(default)s)")
    serve.add_argument("--keys", type=Path, required=True, help="keys file (created if absent)")
    serve.add_argument(
        "--issuer", type=served_issuer, help="issuer URL (default: the server's own URL)"
    )
    serve.add_argument(
        "--audience",
        type=non_empty,
        default=DEFAULT_AUDIENCE,
        help="the aud of a token from /oauth/token without an audience parameter"
        " (default: %(default)s)",
    )

    token = commands.add_parser("token", help="print a signed access token")
    token.add_argument(
        "--keys",
        type=Path,
        required=True,
        help="keys file: the one the IdP serves (created if absent, with a new key)",
    )
    token.add_argument(
        "--issuer", type=issuer_claim, required=True, help="iss (a trailing / is added if missing)"
    )
    token.add_argument("--audience", type=non_empty, required=True)
    token.add_argument("--scope", default="")
    token.add_argument(
        "--client-id", type=non_empty, help="the machine client (sub = <client_id>@clients)"
    )
    token.add_argument(
        "--claim",
        type=parse_claim,
        action="append",
        default=[],
        metavar="K=V",
        help="a claim to set (repeatable); V is read as JSON when it is JSON "
        '(1, true, ["a"], {...}), else as a string',
    )
    token.add_argument("--expires-in", type=int, help="lifetime in seconds (default 86400)")
    return parser


def serve(args: argparse.Namespace, out: TextIO) -> int:
    """Serve until SIGINT or SIGTERM; one line on ``out`` once listening."""
    keys = load_or_create_keys(args.keys)
    if not any(state is KeyState.SIGNING for _key, state in keys.entries()):  # not a 500 later
        raise LookupError(f"{args.keys}: no key is in the SIGNING state")
    idp = MockIdP(args.issuer, keys=keys) if args.issuer else MockIdP(keys=keys)
    idp.audience = args.audience
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with MockIdPServer(idp, args.host, args.port, keep_issuer=bool(args.issuer)) as server:
            print(f"mock_idp serving {server.url} (issuer {idp.issuer})", file=out, flush=True)
            while not stop.wait(SIGNAL_POLL_SECONDS):  # the handlers set it, in this thread
                pass
    except OSError as exc:  # a bind, mostly: name the address (8001 is make run's IdP's too)
        reason = exc.strerror or str(exc)
        raise OSError(exc.errno, f"{args.host} port {args.port}: {reason}") from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def token(args: argparse.Namespace, out: TextIO) -> int:
    """Print one token, alone, on ``out``."""
    idp = MockIdP(args.issuer, keys=load_or_create_keys(args.keys), audience=args.audience)
    minted = idp.mint(
        scope=args.scope,
        client_id=args.client_id,
        expires_in=args.expires_in,
        claims=dict(args.claim),
    )
    print(minted, file=out, flush=True)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = serve if args.command == "serve" else token
    try:
        return command(args, out if out is not None else sys.stdout)
    except (ValueError, LookupError) as exc:  # a keys file that is not one, or has no signer
        print(f"mock_idp: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a port in use, a keys file that cannot be read or written
        print(f"mock_idp: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before serve's handlers are in place
        return 130
