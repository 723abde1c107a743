"""Shared test helpers: running the real CLI, finding processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from x402 import x402Client, x402ClientSync

    from omareview._devnet_state import DevnetState

PayerT = TypeVar("PayerT", "x402Client", "x402ClientSync")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error_line(self) -> str:
        """The single line a failing command must print; asserts there is exactly one."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one error line, got: {self.stderr!r}"
        assert lines[0].startswith("error: "), lines[0]
        assert "Traceback" not in self.stderr
        return lines[0]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120, input: str | None = None) -> CliResult:
    """Run `python -m omareview ARGS` as a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "omareview", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        input=input,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def pids_with_arg(*needles: str) -> list[int]:
    """Pids of live processes whose command line contains every needle as a separate argument."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and all(needle.encode() in argv for needle in needles):
            found.append(int(entry.name))
    return found


INTEROP = Path(__file__).parent / "interop"


def run_node(script: str, request: dict[str, Any], timeout: float = 120) -> Any:
    """Run one of the interop scripts under tests/interop with a JSON request on stdin."""
    proc = subprocess.run(
        ["node", str(INTEROP / script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def devnet_payer(client_class: type[PayerT], state: DevnetState, account: int) -> PayerT:
    """The x402 package's `x402Client` or `x402ClientSync` (`client_class`) paying the devnet's TestUSDC from
    `account`, at most 100,000 units a payment."""
    from eth_account import Account
    from x402.mechanisms.evm.exact.register import register_exact_evm_client

    client = client_class()
    allowed = {"network": "eip155:31337", "asset": state.token_address, "max_amount_per_payment": "100000"}
    client.set_spend_controls({"allowed_assets": [allowed]})
    key = state.accounts[account].private_key.get_secret_value()
    register_exact_evm_client(client, Account.from_key(key), networks="eip155:31337")
    return client


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str, within_s: float = 30.0) -> bool:
    """Whether `url` answers 200 within `within_s`, polled every 50 ms: a started server once it listens."""
    import time

    import httpx

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


@contextmanager
def devserver_process(
    home: Path, *args: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """The dev x402 server (`python -m omareview.devnet.server`) as a real subprocess; yields its base URL
    (http://localhost:PORT) once it answers."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "omareview.devnet.server", "--port", str(port), *args],
        env={**os.environ, "OMAREVIEW_HOME": str(home), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        if not answers(f"http://127.0.0.1:{port}/health"):
            raise AssertionError(proc.stdout.read().decode() if proc.stdout else "devserver did not start")
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def revert_chain(call: Callable[[str, list[Any]], Any], snapshot: Any) -> bool:
    """`evm_revert` to `snapshot`, then the chain clock set back to the wall clock: Anvil's revert also
    rewinds its clock to the snapshot's block, and a chain left behind the wall clock makes every receipt
    issued "now" look like it comes from the future. `call(method, params)` is any JSON-RPC caller."""
    import time

    reverted = bool(call("evm_revert", [snapshot]))
    call("anvil_setTime", [int(time.time())])
    return reverted


class Clock:
    """A hand-moved monotonic clock for time-bound code: set or advance `now`."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
