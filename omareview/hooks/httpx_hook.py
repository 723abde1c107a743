"""Installing the capture into a plain HTTP client (httpx or requests: response hooks), or a transport under
the x402 client's own httpx transport (so the 402 with its offers is seen as well as the paid response with
its receipt). For the x402 clients themselves, `omareview.hooks.attach` works through their own hooks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from omareview.errors import InputError
from omareview.gate.decide import Decision, Gate, PaymentNotApprovedError
from omareview.hooks.attach import within_approval
from omareview.hooks.capture import ReceiptCapture

__all__ = ["AsyncCapturingTransport", "CapturingTransport", "ClientT", "install_hook", "paying_client"]

ClientT = TypeVar("ClientT")


def install_hook(client: ClientT, capture: ReceiptCapture) -> ClientT:
    """Add the capture to a plain `httpx.Client`, `httpx.AsyncClient` or `requests.Session` as a response
    hook; an `x402Client` or `x402ClientSync` gets it through its own hooks (`attach`)."""
    if callable(getattr(client, "on_payment_response", None)):
        from omareview.hooks.attach import attach

        attached: ClientT = attach(client, capture)
        return attached
    if not isinstance(client, httpx.Client | httpx.AsyncClient):
        hooks = getattr(client, "hooks", None)
        if not isinstance(hooks, dict) or "response" not in hooks:
            raise InputError(
                f"{type(client).__name__} is not an httpx client, a requests session or an x402 client",
                reason="unsupported-client",
            )

        def on_requests_response(response: Any, *args: Any, **kwargs: Any) -> Any:
            body = response.content if response.status_code == 402 else None
            capture.observe(str(response.url), response.status_code, dict(response.headers), body, response)
            return response

        hooks["response"].append(on_requests_response)
        return client
    if isinstance(client, httpx.AsyncClient):

        async def on_async_response(response: httpx.Response) -> None:
            body = await response.aread() if response.status_code == 402 else None
            # Verifying a receipt and writing the outbox block: done in a worker thread, off the event loop.
            url = str(response.request.url)
            await asyncio.to_thread(capture.observe, url, response.status_code, response.headers, body, response)

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
    """The asyncio form of `CapturingTransport`: the capture's verification and outbox writes, and the gate's
    decision, run in a worker thread, off the event loop.

    Parameters:
        capture: where offers and receipts go.
        inner: the transport that sends (None: httpx's own).
        gate: decides before a 402 is paid (None: every 402 passes).
    """

    def __init__(
        self, capture: ReceiptCapture, inner: httpx.AsyncBaseTransport | None = None, gate: Gate | None = None
    ) -> None:
        self.capture = capture
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread() if response.status_code == 402 else None
        url = str(request.url)
        await asyncio.to_thread(self.capture.observe, url, response.status_code, response.headers, body, response)
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

        resource = getattr(getattr(context.payment_required, "resource", None), "url", None)
        decision = gate.last_decision(str(resource)) if resource else None
        refusal = within_approval(decision, context.selected_requirements)
        return AbortResult(reason=f"omareview gate: {refusal}") if refusal else None

    return before_payment


def paying_client(
    x402_client: Any, capture: ReceiptCapture, gate: Gate | None = None, **httpx_kwargs: Any
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` that pays 402s with the `x402` package's client and captures every offer and
    receipt on the way (the capture sits under the x402 transport, so it sees the 402 and the retry). With a
    `gate`, a 402 is paid only when the gate says `pay`, and only within the limit it approved; otherwise the
    request raises PaymentNotApprovedError carrying the decision.

    It captures under the package's transport rather than in the package's hooks (`attach`) for two things
    the hooks cannot give: the rating policy sees the paid response, and a refusal reaches the caller as
    PaymentNotApprovedError, where the package's transport wraps whatever a hook raises in its own
    PaymentError."""
    from x402.http.clients.httpx import x402AsyncTransport

    if not asyncio.iscoroutinefunction(getattr(x402_client, "create_payment_payload", None)):
        raise InputError(
            f"{type(x402_client).__name__} pays synchronously, which the x402 package's httpx transport does not "
            "support; pay through requests with omareview.hooks.paying_session, or attach() to its own adapter",
            reason="unsupported-client",
        )
    if gate is not None:
        x402_client.on_before_payment_creation(_guard(gate))
    inner = AsyncCapturingTransport(capture, gate=gate)
    return httpx.AsyncClient(transport=x402AsyncTransport(x402_client, transport=inner), **httpx_kwargs)
