"""Every code block of the README and the docs, run as written.

Each page runs in a fresh `OMAREVIEW_HOME` and working folder, its blocks in order, so a file one block writes
is there for the next. Python blocks run as scripts in a fresh interpreter, shell blocks under `bash -eo
pipefail` with the installed `omareview` first on PATH, TOML blocks are loaded by what reads them. Python blocks
share one interpreter per page, as a reader's session would: a block may use what an earlier one defined. A
page declares what it assumes in a comment at its top, and the test provides exactly that with the real parts:

    <!-- docs-test: devnet devserver paid -->

- `devnet`: `omareview devnet up --detach` before the first block (and `devnet down` after the last);
- `devserver`: `python -m omareview.devnet.server` on its default port, 8402, with
  `OMAREVIEW_DID_WEB_OVERRIDES=localhost=http://127.0.0.1:8402`, as the service guide says;
- `paid`: one payment of `http://localhost:8402/paid` by dev account 1 through the x402 package's client,
  captured in the page's outbox with a draft, its receipt in `receipt.json` (`omareview outbox export`), its
  signed offer in `offer.json` and the `PAYMENT-RESPONSE` header it came in as `$PAYMENT_RESPONSE`;
- `reviewed`: that receipt's drafted review submitted (`omareview outbox submit --dev-account 1`);
- `postgres`: `$OMAREVIEW_STORE` names a fresh database on the suite's PostgreSQL server.

A comment right before a block says how it runs, when not plainly:

- `<!-- docs-test: not run: WHY -->`: it needs what cannot run here (a public network, a hardware key); it is
  still parsed (Python compiled and type-checked, shell by `bash -n` and every `omareview` line by the CLI's
  own parser, TOML loaded);
- `<!-- docs-test: keeps running, answers URL -->`: a server; it starts in the background, must answer at
  URL, and runs until the page is done;
- `<!-- docs-test: exits N -->`: its last command ends with exit code N (a gate that says no);
- `<!-- docs-test: policy.toml -->`, `<!-- docs-test: config.toml -->`: what a TOML block is.

`pip install` lines run with `PIP_NO_INDEX=1`: the package and its extras are installed already, so pip
only confirms them (the wheel test installs from the wheel for real), and npm runs offline from its cache.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from omareview.cli.app import cli
from tests.helpers import answers

ROOT = Path(__file__).resolve().parents[2]
ALL_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DEVSERVER_PORT = 8402
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.devnet


@dataclass
class Block:
    page: Path
    line: int
    language: str
    text: str
    how: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = re.fullmatch(r"```(\w*)", lines[index])
        if opening is None:
            index += 1
            continue
        end = lines.index("```", index + 1)
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        how = re.fullmatch(r"<!-- docs-test: (.*) -->", before)
        found.append(
            Block(
                page, index + 1, opening.group(1), "\n".join(lines[index + 1 : end]) + "\n", how.group(1) if how else ""
            )
        )
        index = end + 1
    return found


def _setup(page: Path) -> set[str]:
    head = re.search(
        r"<!-- docs-test: ((?:devnet|devserver|paid|reviewed|postgres| )+) -->", page.read_text(encoding="utf-8")
    )
    return set(head.group(1).split()) if head else set()


@dataclass
class Session:
    """One page's world: its home, working folder, environment and the servers it left running."""

    folder: Path
    env: dict[str, str]
    running: list[subprocess.Popen[str]] = field(default_factory=list)
    python: subprocess.Popen[str] | None = None

    def exec_python(self, script: Path) -> tuple[bool, str]:
        """Run `script` in the page's one interpreter; whether it raised, and what it printed."""
        if self.python is None:
            self.python = subprocess.Popen(
                [sys.executable, "-u", "-c", _DRIVER],
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        assert self.python.stdin is not None and self.python.stdout is not None
        self.python.stdin.write(f"{script}\n")
        self.python.stdin.flush()
        lines: list[str] = []
        for line in self.python.stdout:
            if line.startswith(_DONE):
                return line.strip() == f"{_DONE} ok", "".join(lines)
            lines.append(line)
        return False, "".join(lines) + "(the interpreter ended)"

    def run(
        self, argv: list[str], *, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.folder, env=self.env, capture_output=True, text=True, input=input, timeout=timeout
        )

    def start(self, argv: list[str], ready: str) -> None:
        """A server in the background, once it answers at the URL `ready` (or printed `ready`)."""
        log = self.folder / f"server-{len(self.running)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                argv,
                cwd=self.folder,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        self.running.append(proc)
        if ready.startswith("http"):
            assert answers(ready), f"{argv} did not answer at {ready}: {log.read_text()[-2000:]}"
            return
        deadline = time.monotonic() + 60
        while ready not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready in log.read_text(), f"{argv} did not start: {log.read_text()[-2000:]}"

    def stop(self) -> None:
        if self.python is not None:
            self.python.kill()
            self.python.wait()
        for proc in self.running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        self.run([str(BIN / "omareview"), "devnet", "down"])


_DONE = "--docs-test-block-done--"
_DRIVER = f"""
import sys, traceback
namespace = {{"__name__": "__main__"}}
for path in sys.stdin:
    path = path.strip()
    try:
        exec(compile(open(path).read(), path, "exec"), namespace)
        print("{_DONE} ok", flush=True)
    except BaseException:
        traceback.print_exc(file=sys.stdout)
        print("{_DONE} failed", flush=True)
"""

_PAY = """
import asyncio, base64, json, sys
from eth_account import Account
from x402 import x402Client
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from omareview.devnet import read_state
from omareview.hooks import ReceiptCapture, ReviewDraft, paying_client

state = read_state()
client = x402Client()
allowed = {"network": "eip155:31337", "asset": state.token_address, "max_amount_per_payment": "100000"}
client.set_spend_controls({"allowed_assets": [allowed]})
register_exact_evm_client(client, Account.from_key(state.accounts[1].private_key.get_secret_value()))
capture = ReceiptCapture(rating_policy=lambda response, receipt: ReviewDraft(5, "fast and correct"))

async def pay() -> None:
    async with paying_client(client, capture) as http:
        response = await http.get("http://localhost:8402/paid")
    assert response.status_code == 200, response.text
    print(response.headers["payment-response"])

asyncio.run(pay())
"""


@pytest.fixture(scope="module")
def shared_toolchain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where every page's `$OMAREVIEW_HOME/toolchain` points: the first `omareview toolchain install` fills it,
    the others find it installed (as a reader's second run would)."""
    return tmp_path_factory.mktemp("docs-toolchain")


@pytest.fixture
def session(request: pytest.FixtureRequest, tmp_path: Path, shared_toolchain: Path) -> Iterator[Session]:
    page: Path = request.param
    home, folder = tmp_path / "page-home", tmp_path / "page-work"
    home.mkdir()
    folder.mkdir()
    (home / "toolchain").symlink_to(shared_toolchain, target_is_directory=True)
    env = {
        **os.environ,
        "OMAREVIEW_HOME": str(home),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "npm_config_offline": "true",
    }
    env.pop("OMAREVIEW_NETWORK", None)
    world = Session(folder, env)
    needs = _setup(page)
    if "postgres" in needs:
        from tests.postgres import fresh_database

        env["OMAREVIEW_STORE"] = fresh_database(request.getfixturevalue("postgres"))
    try:
        if needs & {"devnet", "devserver", "paid"}:
            up = world.run([str(BIN / "omareview"), "devnet", "up", "--detach"])
            assert up.returncode == 0, up.stderr
        if needs & {"devserver", "paid"}:
            env["OMAREVIEW_DID_WEB_OVERRIDES"] = f"localhost=http://127.0.0.1:{DEVSERVER_PORT}"
            world.start([sys.executable, "-m", "omareview.devnet.server"], "dev x402 server on")
            assert answers(f"http://127.0.0.1:{DEVSERVER_PORT}/health")
        if "paid" in needs:
            paid = world.run([sys.executable, "-c", _PAY])
            assert paid.returncode == 0, paid.stderr
            env["PAYMENT_RESPONSE"] = paid.stdout.strip()
            for name, args in (("receipt.json", []), ("offer.json", ["--offer"])):
                exported = world.run([str(BIN / "omareview"), "outbox", "export", *args])
                assert exported.returncode == 0, exported.stderr
                (folder / name).write_text(exported.stdout)
        if "reviewed" in needs:
            reviewed = world.run([str(BIN / "omareview"), "outbox", "submit", "--dev-account", "1"])
            assert reviewed.returncode == 0, reviewed.stderr
        yield world
    finally:
        world.stop()


def _python(block: Block, world: Session) -> None:
    script = world.folder / f"block_{block.line}.py"
    script.write_text(block.text)
    if block.how.startswith("not run"):
        compile(block.text, block.where, "exec")
        checked = world.run(
            [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-error-summary", script.name]
        )
        assert checked.returncode == 0, f"{block.where} does not type-check:\n{checked.stdout}"
        return
    ok, printed = world.exec_python(script)
    assert ok, f"{block.where} failed:\n{printed[-4000:]}"


def _commands(text: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments and `$ ` prompts dropped."""
    commands: list[str] = []
    for line in text.replace("\\\n", " ").splitlines():
        command = line.removeprefix("$ ").split(" #", 1)[0].strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def _parse_omareview(block: Block, command: str) -> None:
    """An `omareview` command line parses: its commands and options exist (`--help` ends it before it runs)."""
    words = shlex.split(command)
    while words and "=" in words[0] and not words[0].startswith("-"):
        words.pop(0)
    if not words or words[0] != "omareview":
        return
    args = [w for w in words[1:] if w not in (">", "<")]
    args = args[: next((i for i, w in enumerate(args) if w in ("|", "&&", ">")), len(args))]
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, f"{block.where}: `{command}` does not parse: {result.output.strip()}"


def _shell(block: Block, world: Session) -> None:
    prompted = [line[2:] for line in block.text.splitlines() if line.startswith("$ ")]
    syntax = world.run(["bash", "-n"], input="\n".join(prompted) if prompted else block.text)
    assert syntax.returncode == 0, f"{block.where}: {syntax.stderr}"
    commands = prompted or _commands(block.text)
    for command in commands:
        _parse_omareview(block, command)
    if block.how.startswith("not run"):
        return
    if block.how.startswith("keeps running, answers "):
        world.start(["bash", "-c", block.text], block.how.removeprefix("keeps running, answers "))
        return
    if prompted:
        _console(block, world)
        return
    expected = int(block.how.removeprefix("exits ")) if block.how.startswith("exits ") else 0
    done = world.run(["bash", "-eo", "pipefail", "-c", block.text])
    assert done.returncode == expected, (
        f"{block.where} ended {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )


def _console(block: Block, world: Session) -> None:
    """`$ command` lines run in turn; the lines after one are its output, compared as shown."""
    chunks = re.split(r"^\$ ", block.text, flags=re.M)[1:]
    for chunk in chunks:
        command, _, shown = chunk.partition("\n")
        done = world.run(["bash", "-eo", "pipefail", "-c", command])
        assert done.returncode == 0, f"{block.where}: `{command}` ended {done.returncode}: {done.stderr[-2000:]}"
        if shown.strip():
            assert done.stdout == shown, f"{block.where}: `{command}` printed\n{done.stdout}"


def _toml(block: Block, world: Session) -> None:
    from omareview.gate import load_policy

    tomllib.loads(block.text)
    path = world.folder / f"block_{block.line}.toml"
    path.write_text(block.text)
    if block.how == "policy.toml":
        load_policy(path)
    elif block.how == "config.toml":
        # In a home of its own, so the page's devnet state stays apart: `omareview config` checks every key.
        home = world.folder / f"config-{block.line}"
        home.mkdir()
        (home / "config.toml").write_text(block.text)
        shown = subprocess.run(
            [str(BIN / "omareview"), "config", "--json"],
            env={**world.env, "OMAREVIEW_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, f"{block.where}: {shown.stderr}"
    else:
        raise AssertionError(f"{block.where}: say what this TOML block is (<!-- docs-test: policy.toml -->)")


PAGES = [page for page in ALL_PAGES if _blocks(page)]


@pytest.mark.parametrize("session", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES], indirect=True)
def test_every_block_runs_as_written(session: Session, request: pytest.FixtureRequest) -> None:
    page: Path = request.node.callspec.params["session"]
    for block in _blocks(page):
        if block.language == "python":
            _python(block, session)
        elif block.language in ("sh", "console"):
            _shell(block, session)
        elif block.language == "toml":
            _toml(block, session)
        elif block.language == "layers":
            continue  # read by tests/unit/test_layers.py
        else:
            raise AssertionError(f"{block.where}: a ```{block.language} block the docs test cannot run")
