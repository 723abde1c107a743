"""Benchmark: verify 2,000 EIP-712 receipts signed by the reference, whole process, omareview vs the
reference verifier (@x402/extensions `verifyReceiptSignatureEIP712`) in node, measured in the same run."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import INTEROP, run_node

COUNT = 2000
ROUNDS = 3


def _best_of(command: list[str], stdin: str | None = None) -> tuple[float, str]:
    best, output = float("inf"), ""
    for _ in range(ROUNDS):
        started = time.perf_counter()
        proc = subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - started)
        output = proc.stdout
    return best, output


def main() -> dict[str, float]:
    receipt = {
        "resourceUrl": "https://api.example.com/premium-data",
        "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
        "network": "eip155:8453",
    }
    envelopes = run_node("x402_reference.mjs", {"action": "sign-many", "count": COUNT, "receipt": receipt})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "receipts.json"
        path.write_text(json.dumps(envelopes))
        ours, out = _best_of(
            [sys.executable, "-m", "omareview", "receipt", "verify", str(path), "--no-authorize", "--json"]
        )
        lines = out.splitlines()
        assert len(lines) == COUNT and all(json.loads(line)["valid"] for line in lines[:5] + lines[-5:])
        request = json.dumps({"action": "verify-file", "path": str(path)})
        theirs, out = _best_of(["node", str(INTEROP / "x402_reference.mjs")], request)
        assert json.loads(out)["verified"] == COUNT
    ratio = ours / theirs
    print(f"x402 verify {COUNT} EIP-712 receipts, whole process (best of {ROUNDS}):")
    print(f"  omareview receipt verify   {ours:7.3f} s")
    print(f"  reference verifier (node)  {theirs:7.3f} s")
    print(f"  ratio omareview/reference  {ratio:7.3f}   (target <= 0.333)  {'MET' if ratio <= 1 / 3 else 'NOT MET'}")
    return {"omareview_s": ours, "reference_s": theirs, "ratio": ratio}


if __name__ == "__main__":
    main()
