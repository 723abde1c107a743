"""A real OMATrust-compatible relay for tests: `POST /v1/delegated-attest` rebuilds the typed data from the
request, checks the signer and deadline, and sends `attestByDelegation` from its own key."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from omareview.eas.abi import RequestData
from omareview.eas.client import EasClient
from omareview.eas.delegation import DelegatedAttestation
from omareview.errors import OmaReviewError


def _handle(client: EasClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    prepared = body["prepared"]
    request, typed = prepared["delegatedRequest"], prepared["typedData"]
    full = {
        "types": {
            "EIP712Domain": [
                {"name": n, "type": t}
                for n, t in (
                    ("name", "string"),
                    ("version", "string"),
                    ("chainId", "uint256"),
                    ("verifyingContract", "address"),
                )
            ],
            **typed["types"],
        },
        "primaryType": "Attest",
        "domain": typed["domain"],
        "message": typed["message"],
    }
    signature = bytes.fromhex(body["signature"][2:])
    signer = Account.recover_message(encode_typed_data(full_message=full), signature=signature)
    if signer.lower() != body["attester"].lower():
        return 400, {"success": False, "code": "ATTESTER_MISMATCH"}
    if int(request["deadline"]) < time.time():
        return 400, {"success": False, "code": "SIGNATURE_EXPIRED"}
    data = RequestData(
        request["recipient"],
        int(request["expirationTime"]),
        bool(request["revocable"]),
        request["refUID"],
        bytes.fromhex(request["data"][2:]),
        int(request["value"]),
    )
    delegated = DelegatedAttestation(
        client.domain(),
        request["schema"],
        data,
        body["attester"],
        int(request["nonce"]),
        int(request["deadline"]),
        signature[64],
        signature[:32],
        signature[32:64],
    )
    try:
        submitted = client.submit_delegated(delegated)
    except OmaReviewError as exc:
        return 500, {"success": False, "error": str(exc)}
    return 200, {
        "success": True,
        "uid": submitted.uid,
        "txHash": submitted.tx_hash,
        "blockNumber": submitted.block_number,
    }


@contextmanager
def relay_server(client: EasClient, *, lose_answers: int = 0) -> Iterator[tuple[str, list[str]]]:
    """Yields the relay's base URL (which 302-redirects to the real endpoint) and the paths it served. The
    first `lose_answers` attestations it relays are sent, but the connection is then dropped unanswered."""
    seen: list[str] = []
    lost = [0]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_POST(self) -> None:
            seen.append(f"POST {self.path}")
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/v1/delegated-attest":
                self.send_response(302)
                self.send_header("Location", "/relay/v1/delegated-attest")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, reply = _handle(client, json.loads(body))
            if lost[0] < lose_answers:
                lost[0] += 1
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
