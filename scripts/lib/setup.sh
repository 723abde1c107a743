# Sourced by scripts/test, scripts/demo and scripts/bench: makes .venv/ at the repository root with
# omareview and its dev extra, and installs the pinned npm toolchain under contracts/ (the project's own
# contracts ship compiled in omareview/devnet/artifacts; a test recompiles them). Idempotent: each
# step is skipped while the file it was made from (pyproject.toml, package-lock.json) is unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3}"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

fingerprint() { sha256sum "$@" | sha256sum | cut -c1-16; }

setup_python() {
  command -v "$PYTHON_BIN" >/dev/null || die "python3 is not installed; omareview needs Python 3.11 or newer"
  "$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$("$PYTHON_BIN" --version) is too old; omareview needs Python 3.11 or newer (set PYTHON=...)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
  fi
  local stamp="$VENV/.omareview-setup" want
  want="$(fingerprint "$ROOT/pyproject.toml")"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing omareview and its dev extra into .venv"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[dev]"
    echo "$want" > "$stamp"
  fi
}

setup_npm() {
  command -v npm >/dev/null || die "npm is not installed; install Node.js 20 or newer (Debian: apt-get install nodejs npm)"
  local modules="$ROOT/contracts/node_modules" want
  want="$(fingerprint "$ROOT/contracts/package-lock.json")"
  if [ "$(cat "$modules/.omareview-setup" 2>/dev/null)" != "$want" ]; then
    say "installing the pinned npm toolchain in contracts/ (anvil, solc, EAS artifacts, reference packages)"
    # `npm ci`: exactly what the lock says (it lists every platform's optional Anvil build), and it never
    # rewrites the tracked lock. The wheel's lock (omareview/devnet/npm) is this one cut down, so what this
    # installs also fills the npm cache the wheel test's offline `toolchain install` reads.
    (cd "$ROOT/contracts" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$modules/.omareview-setup"
  fi
}

setup_wheelhouse() {
  # The runtime dependencies (and the devnet extra's) as wheels in .wheelhouse/, so the wheel-install test builds its fresh venv
  # with --no-index: the test suite itself never leaves loopback.
  local stamp="$ROOT/.wheelhouse/.omareview-setup" want
  want="$(fingerprint "$ROOT/pyproject.toml")"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "collecting the runtime dependencies as wheels in .wheelhouse/ (for the wheel-install test)"
    "$VENV/bin/python" - "$ROOT" <<'PY' > "$ROOT/.wheelhouse.requirements"
import sys, tomllib
project = tomllib.load(open(sys.argv[1] + "/pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["devnet"]))
PY
    "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --dest "$ROOT/.wheelhouse" \
      -r "$ROOT/.wheelhouse.requirements" pip
    rm -f "$ROOT/.wheelhouse.requirements"
    echo "$want" > "$stamp"
  fi
}

apt_install() {
  # apt_install PACKAGE WHY: install a Debian package the tests need (as root, or through sudo).
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="$(command -v sudo || true)"
  command -v apt-get >/dev/null || die "$1 is missing and this is not a Debian system; install it ($2)"
  say "installing $1 (Debian package) for $2"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >&2
}

setup_chromium() {
  # The provider's page is tested in a real browser: Debian's chromium at /usr/bin/chromium, driven by
  # Playwright (which is never asked to download a browser of its own).
  [ -x /usr/bin/chromium ] || apt_install chromium "the browser tests"
}

setup_postgres() {
  # The index's PostgreSQL engine is tested against a throwaway cluster made with Debian's initdb/pg_ctl.
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_install postgresql "the PostgreSQL store tests"
}

setup_wrk() {
  # The provider's HTTP benchmark drives it with an independent load generator: Debian's wrk.
  command -v wrk >/dev/null || apt_install wrk "the provider's HTTP benchmark"
}

compile_bytecode() {
  # Bytecode for the checkout, as pip writes it for an installed wheel. Without it a shell that sets
  # PYTHONDONTWRITEBYTECODE compiles every module from source on every command's start (about 40 ms),
  # and the tests and start-up benchmarks would measure that. Only what changed is recompiled.
  "$VENV/bin/python" -m compileall -q "$ROOT/omareview" >/dev/null
}

setup_all() {
  setup_python
  compile_bytecode
  setup_wheelhouse
  setup_npm
  export PATH="$VENV/bin:$PATH"
}
