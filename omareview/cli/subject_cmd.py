"""`omareview subject URL_OR_DID...`."""

from __future__ import annotations

import click

from omareview.cli.output import JSON_OPTION, emit_many
from omareview.identity import did_address, did_hash, subject_did


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="URL_OR_DID...")
@JSON_OPTION
def subject(inputs: tuple[str, ...], as_json: bool) -> None:
    """Normalize a service URL or DID to its subject DID, DID hash and EAS recipient (the DID address).

    A URL's port, path and query are dropped; the host is lowercased, punycoded, and loses one trailing
    `.` and every leading `www.`. IPv4 hosts are kept as they are.
    """
    results = []
    for value in inputs:
        did = subject_did(value)
        results.append({"input": value, "did": did, "didHash": did_hash(did), "recipient": did_address(did)})
    emit_many(results, as_json, lambda r: [r["did"], f"  didHash    {r['didHash']}", f"  recipient  {r['recipient']}"])
