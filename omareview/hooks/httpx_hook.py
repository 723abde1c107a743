"""Installing the capture into httpx: event hooks on a plain client, or a transport under the x402 client's
own transport (so the 402 with its offers is seen as well as the paid response with its receipt)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from omareview.gate.decide import Decision, Gate, PaymentNotApprovedError
from omareview.hooks.capture import ReceiptCapture

__all__ = ["AsyncCapturingTransport", "CapturingTransport", "ClientT", "install_hook", "paying_client"]

ClientT = TypeVar("ClientT", httpx.Client, httpx.AsyncClient)


def install_hook(client: ClientT, capture: ReceiptCapture) -> ClientT:
    """Add the capture to a plain `httpx.Client` or `httpx.AsyncClient` as a response event hook."""
    if isinstance(client, httpx.AsyncClient):

        async def on_async_response(response: httpx.Response) -> None:
            body = await response.aread() if response.status_code == 402 else None
            capture.observe(str(response.request.url), response.status_code, response.headers, body, response)

        client.event_hooks["response"] = [*client.event_hooks["response"], on_async_response]
        return client

    def on_response(response: httpx.Response) -> None:
        body = response.read() if response.status_code == 402 else None
        capture.observe(str(response.request.url), response.status_code, response.headers, body, response)

    client.event_hooks["response"] = [*client.event_hooks["response"], on_response]
    return client


class CapturingTransport(httpx.BaseTransport):
    """A transport that shows every response to the capture before passing it on. With a `gate`, a 402 the
    gate does not approve raises PaymentNotApprovedError instead of reaching the paying client above."""

    def __init__(
        self, capture: ReceiptCapture, inner: httpx.BaseTransport | None = None, gate: Gate | None = None
    ) -> None:
        self.capture = capture
        self.inner = inner or httpx.HTTPTransport()
        self.gate = gate

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        body = response.read() if response.status_code == 402 else None
        self.capture.observe(str(request.url), response.status_code, response.headers, body, response)
        if response.status_code == 402 and self.gate is not None:
            _approve(self.gate.decide(str(request.url), 402, response.headers, body))
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncCapturingTransport(httpx.AsyncBaseTransport):
    def __init__(
        self, capture: ReceiptCapture, inner: httpx.AsyncBaseTransport | None = None, gate: Gate | None = None
    ) -> None:
        self.capture = capture
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread() if response.status_code == 402 else None
        self.capture.observe(str(request.url), response.status_code, response.headers, body, response)
        if response.status_code == 402 and self.gate is not None:
            decision = await asyncio.to_thread(self.gate.decide, str(request.url), 402, response.headers, body)
            _approve(decision)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _approve(decision: Decision) -> None:
    if decision.action != "pay":
        raise PaymentNotApprovedError(decision)


def _guard(gate: Gate) -> Callable[[Any], Any]:
    """A before-payment hook for the x402 client: abort unless the gate approved this very payment — the
    same resource, network, asset and `payTo`, within the approved amount. An approval for one URL never
    covers another's payment, and an unapproved `accepts[]` entry is not paid."""

    def before_payment(context: Any) -> Any:
        from x402.schemas.hooks import AbortResult

        requirement = context.selected_requirements
        resource = getattr(getattr(context.payment_required, "resource", None), "url", None)
        decision = gate.last_decision(str(resource)) if resource else None
        limit = decision.limit if decision is not None else None
        if limit is None:
            return AbortResult(reason="omareview gate: no approved limit for this payment")
        amount = int(str(getattr(requirement, "amount", None) or getattr(requirement, "max_amount_required", "0")))
        approved_pay_to = str(limit.get("payTo") or "").lower()
        same_terms = (
            str(requirement.network),
            str(requirement.asset).lower(),
            str(getattr(requirement, "pay_to", "")).lower(),
        ) == (str(limit["network"]), str(limit["asset"]).lower(), approved_pay_to)
        if not same_terms or amount > int(limit["amount"]):
            return AbortResult(
                reason=f"omareview gate: {amount} of {requirement.asset} on {requirement.network} is not approved"
            )
        return None

    return before_payment


def paying_client(
    x402_client: Any, capture: ReceiptCapture, gate: Gate | None = None, **httpx_kwargs: Any
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` that pays 402s with the `x402` package's client and captures every offer and
    receipt on the way (the capture sits under the x402 transport, so it sees the 402 and the retry). With a
    `gate`, a 402 is paid only when the gate says `pay`, and only within the limit it approved; otherwise the
    request raises PaymentNotApprovedError carrying the decision."""
    from x402.http.clients.httpx import x402AsyncTransport

    if gate is not None:
        x402_client.on_before_payment_creation(_guard(gate))
    inner = AsyncCapturingTransport(capture, gate=gate)
    return httpx.AsyncClient(transport=x402AsyncTransport(x402_client, transport=inner), **httpx_kwargs)
