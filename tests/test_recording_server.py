"""The suite's recording server (``tests.recording_server``) stays quiet when a client resets."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tests.recording_server import recording_server


def test_a_client_resetting_mid_request_prints_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A load generator stopped mid-request had printed ``ConnectionResetError`` tracebacks into
    a passing run's output (found by review)."""
    with recording_server() as recording:
        for _ in range(3):
            client = socket.create_connection(("127.0.0.1", recording.port))
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the headers never end
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # with SO_LINGER 0: a reset, not a FIN
        deadline = time.monotonic() + 5
        while recording.connections < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert recording.connections == 3
    assert "Traceback" not in capfd.readouterr().err
