"""The seal itself: a look-up or connection off loopback fails where it happens and is recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ESCAPE = """
import socket
for attempt in (
    lambda: socket.getaddrinfo("example.com", 443),
    lambda: socket.create_connection(("93.184.216.34", 443), timeout=1),
    lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.0.0.53", 53)),
):
    try:
        attempt()
    except OSError as exc:
        print("refused:", exc)
socket.getaddrinfo("localhost", 80)
print("loopback ok")
"""


def test_escapes_are_refused_and_recorded_in_a_subprocess(tmp_path: Path) -> None:
    log = tmp_path / "escapes.log"
    env = {**os.environ, "OMAREVIEW_SEAL_LOG": str(log)}
    done = subprocess.run([sys.executable, "-c", ESCAPE], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.count("refused: sealed test suite:") == 3
    assert "loopback ok" in done.stdout
    recorded = log.read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in recorded] == [
        "DNS look-up of 'example.com'",
        "connection to 93.184.216.34:443",
        "datagram to 10.0.0.53:53",
    ]
