"""Installing the capture into httpx: event hooks on a plain client, or a transport under the x402 client's
own transport (so the 402 with its offers is seen as well as the paid response with its receipt)."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from omareview.hooks.capture import ReceiptCapture

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
    """A transport that shows every response to the capture before passing it on."""

    def __init__(self, capture: ReceiptCapture, inner: httpx.BaseTransport | None = None) -> None:
        self.capture = capture
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        body = response.read() if response.status_code == 402 else None
        self.capture.observe(str(request.url), response.status_code, response.headers, body, response)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncCapturingTransport(httpx.AsyncBaseTransport):
    def __init__(self, capture: ReceiptCapture, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.capture = capture
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread() if response.status_code == 402 else None
        self.capture.observe(str(request.url), response.status_code, response.headers, body, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def paying_client(x402_client: Any, capture: ReceiptCapture, **httpx_kwargs: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` that pays 402s with the `x402` package's client and captures every offer and
    receipt on the way (the capture sits under the x402 transport, so it sees the 402 and the retry)."""
    from x402.http.clients.httpx import x402AsyncTransport

    inner = AsyncCapturingTransport(capture)
    return httpx.AsyncClient(transport=x402AsyncTransport(x402_client, transport=inner), **httpx_kwargs)
