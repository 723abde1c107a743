"""Capturing through the `x402` package's own client hooks, so every client it ships — the async and sync
payment clients under its httpx and requests adapters, and any it adds later — feeds the outbox.

`attach(x402_client, capture, gate)` registers these hooks on an `x402Client` or `x402ClientSync`:

- `on_before_payment_creation`: the 402's signed offers go to the capture;
- `on_payment_response`: the settlement response (its signed receipt, network and transaction) goes to the
  capture, which attaches the matching offer;
- `on_before_payment_creation`, with a gate: the gate decides on the 402 there and then, and the payment is
  aborted unless the gate says `pay` for this very resource, network, asset and `payTo`, within the amount
  it approved;
- `on_after_payment_creation`: a payment was signed, so a settlement response must follow; one that has not
  reached the capture within `receipt_wait_s` is logged as a warning that names why it may be missing (a
  client that pays without running the payment-response hooks, as the package's `x402MCPSession` does).

The package's MCP clients and its `x402MCPSession` are attached through their own hooks, or (for the ones
that have none) through their payment client's hooks and their tool results' settlements.

The capturing hooks are plain functions, which the package runs for sync and async clients alike. The
gate's hook is one too for a sync client; for an async one it is a coroutine that runs the decision (its
did.json, DNS and index look-ups) in a worker thread, so the agent's event loop keeps running meanwhile.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from omareview._json import JsonObject
from omareview.errors import InputError
from omareview.hooks.capture import ReceiptCapture, log

if TYPE_CHECKING:
    import requests

    from omareview.gate.decide import Decision, Gate

__all__ = ["RECEIPT_WAIT_S", "McpSessionAdapter", "attach", "paying_session", "within_approval"]

#: How long a signed payment's settlement response may take to reach the capture before a warning.
RECEIPT_WAIT_S = 60.0


class _ReceiptWatch:
    """The payments an attached client signed whose settlement response has not reached the capture yet, each
    with a timer that logs a warning when it runs out (oldest first: responses come back in order)."""

    def __init__(self, wait_s: float, client_name: str) -> None:
        self.wait_s = wait_s
        self.client_name = client_name
        self._pending: collections.deque[threading.Timer] = collections.deque()
        self._lock = threading.Lock()

    def signed(self, url: str) -> None:
        timer = threading.Timer(self.wait_s, self._warn, (url,))
        timer.daemon = True
        with self._lock:
            self._pending.append(timer)
        timer.start()

    def answered(self) -> None:
        with self._lock:
            timer = self._pending.popleft() if self._pending else None
        if timer is not None:
            timer.cancel()

    def _warn(self, url: str) -> None:
        with self._lock:
            self._pending = collections.deque(t for t in self._pending if t is not threading.current_thread())
        log.warning(
            "%s signed a payment for %s but no settlement response reached the outbox within %g s: the service "
            "sent none, or the payment went through a path that does not run the x402 client's payment-response "
            "hooks (an x402MCPSession: attach the session itself, not its x402Client), so no receipt was kept",
            self.client_name,
            url,
            self.wait_s,
        )


def _document(model: Any) -> JsonObject | None:
    """An x402 schema object (or a document already) as its JSON document (camelCase keys), or None."""
    if model is None or isinstance(model, dict):
        return model
    dumped = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped if isinstance(dumped, dict) else None


def _resource_url(payment_required: Any) -> str | None:
    resource = getattr(payment_required, "resource", None)
    url = getattr(resource, "url", None)
    return str(url) if url else None


def within_approval(decision: Decision | None, requirement: Any) -> str | None:
    """Why `requirement` (the x402 client's selected payment requirements) is not covered by the gate's
    decision, or None when it is: same network, asset and `payTo`, amount within the approved limit."""
    limit = decision.limit if decision is not None else None
    if decision is None or decision.action != "pay" or limit is None:
        return "no approved limit for this payment"
    amount = int(str(getattr(requirement, "amount", None) or getattr(requirement, "max_amount_required", "0")))
    offered = (
        str(requirement.network),
        str(requirement.asset).lower(),
        str(getattr(requirement, "pay_to", "")).lower(),
    )
    approved = (str(limit.network), str(limit.asset).lower(), str(limit.pay_to or "").lower())
    if offered != approved or amount > int(limit.amount):
        return f"{amount} of {requirement.asset} to {offered[2]} on {requirement.network} is not approved"
    return None


def attach(
    x402_client: Any, capture: ReceiptCapture, gate: Gate | None = None, *, receipt_wait_s: float = RECEIPT_WAIT_S
) -> Any:
    """Capture every payment `x402_client` makes (and, with `gate`, pay only what the gate approves).

    Parameters:
        x402_client: the `x402` package's `x402Client` or `x402ClientSync`, one of its MCP clients
            (`x402MCPClient`, `x402MCPClientSync`), or its `x402MCPSession`.
        capture: where offers and receipts go.
        gate: decides before each payment; the payment is aborted (the package's `AbortResult`) unless it
            approves it.
        receipt_wait_s: how long a signed payment's settlement response may take to reach the capture before
            a warning is logged (logger `omareview.hooks`).

    Returns the client, for chaining. Raises InputError (`unsupported-client`) for anything else.
    """
    if _is_mcp_session(x402_client):
        return _attach_mcp_session(x402_client, capture, gate, receipt_wait_s)
    if callable(getattr(x402_client, "on_after_payment", None)):
        return _attach_mcp(x402_client, capture, gate)
    if callable(getattr(x402_client, "call_tool", None)) and hasattr(x402_client, "payment_client"):
        return _attach_mcp_sync(x402_client, capture, gate, receipt_wait_s)
    _attach_client(x402_client, capture, gate, receipt_wait_s)
    return x402_client


def _attach_client(x402_client: Any, capture: ReceiptCapture, gate: Gate | None, wait_s: float) -> _ReceiptWatch:
    """The payment client's own hooks; returns the watch over its signed payments."""
    hooks = ("on_before_payment_creation", "on_after_payment_creation", "on_payment_response")
    if not all(callable(getattr(x402_client, hook, None)) for hook in hooks):
        raise InputError(
            f"{type(x402_client).__name__} has no payment hooks to attach to (x402Client, x402ClientSync, the "
            "x402 MCP clients and x402MCPSession have)",
            reason="unsupported-client",
        )
    watch = _ReceiptWatch(wait_s, type(x402_client).__name__)

    def on_before_payment(context: Any) -> None:
        # The 402 is seen here, before paying: its signed offers are remembered for the receipt to come.
        url = _resource_url(context.payment_required) or "(unknown resource)"
        capture.observe_payment(url, None, _document(context.payment_required))

    def on_payment_created(context: Any) -> None:
        watch.signed(_resource_url(context.payment_required) or "(unknown resource)")

    def on_payment_response(context: Any) -> None:
        watch.answered()
        url = _resource_url(context.payment_required) or _resource_url(context.payment_payload) or "(unknown)"
        capture.observe_payment(url, _document(context.settle_response), _document(context.payment_required))

    # Reading offers and verifying a receipt (and writing the outbox) block: an async client runs them in a
    # worker thread, off its event loop.
    paying = getattr(x402_client, "create_payment_payload", None)
    x402_client.on_before_payment_creation(_off_the_loop(on_before_payment, paying))
    x402_client.on_after_payment_creation(on_payment_created)
    x402_client.on_payment_response(_off_the_loop(on_payment_response, paying))
    if gate is not None:
        x402_client.on_before_payment_creation(_off_the_loop(_deciding_guard(gate), paying))
    return watch


def _is_mcp_session(candidate: Any) -> bool:
    if not type(candidate).__module__.startswith("x402.mcp"):
        return False
    from x402.mcp.client import x402MCPSession

    return isinstance(candidate, x402MCPSession)


def _attach_mcp_session(session: Any, capture: ReceiptCapture, gate: Gate | None, wait_s: float) -> Any:
    """The package's `x402MCPSession`, which pays through its `x402Client` but runs none of its
    payment-response hooks: that client's hooks see the offers and run the gate, and each paid tool result's
    settlement goes to the capture. The session keeps its client private (`_x402_client`, the one way to it)."""
    watch = _attach_client(session._x402_client, capture, gate, wait_s)
    call_tool = session.call_tool

    async def capturing_call_tool(name: str, arguments: JsonObject | None = None, **kwargs: Any) -> Any:
        result = await call_tool(name, arguments, **kwargs)
        await asyncio.to_thread(_observe_tool_result, capture, watch, name, result)
        return result

    session.call_tool = capturing_call_tool
    return session


def _observe_tool_result(capture: ReceiptCapture, watch: _ReceiptWatch, name: str, result: Any) -> None:
    """A paid tool result's settlement to the capture; a paid result without one is said at once."""
    if not result.payment_made:
        return
    watch.answered()
    if result.payment_response is None:
        log.warning("the paid MCP tool %s answered without a settlement response: no receipt was kept", name)
        return
    capture.observe_payment(f"mcp tool {name}", _document(result.payment_response))


def _attach_mcp(mcp_client: Any, capture: ReceiptCapture, gate: Gate | None) -> Any:
    """The x402 package's MCP clients: offers from the payment-required result, the receipt from the tool
    result's settlement (`_meta["x402/payment-response"]`); with a gate, a payment it does not approve raises
    PaymentNotApprovedError before anything is signed."""

    def on_payment_required(context: Any) -> None:
        url = _resource_url(context.payment_required) or f"mcp tool {context.tool_name}"
        capture.observe_payment(url, None, _document(context.payment_required))

    def on_after_payment(context: Any) -> None:
        url = _resource_url(context.payment_payload) or f"mcp tool {context.tool_name}"
        capture.observe_payment(url, _document(context.settle_response), None)

    calling = getattr(mcp_client, "call_tool", None)
    mcp_client.on_payment_required(_off_the_loop(on_payment_required, calling))
    mcp_client.on_after_payment(_off_the_loop(on_after_payment, calling))
    if gate is not None:

        def before_payment(context: Any) -> None:
            from omareview.gate.decide import PaymentNotApprovedError

            url = _resource_url(context.payment_required) or f"mcp tool {context.tool_name}"
            decision = _decide(gate, url, context.payment_required)
            selected = (context.payment_required.accepts or [None])[0]
            if decision.action != "pay" or within_approval(decision, selected) is not None:
                raise PaymentNotApprovedError(decision)

        mcp_client.on_before_payment(_off_the_loop(before_payment, calling))
    return mcp_client


def _attach_mcp_sync(mcp_client: Any, capture: ReceiptCapture, gate: Gate | None, wait_s: float) -> Any:
    """The package's `x402MCPClientSync`, which has no hooks of its own: its payment client's hooks see the
    offers and run the gate (an unapproved payment raises the package's `PaymentAbortedError` before anything
    is signed), and each paid result's settlement (`payment_response`) goes to the capture."""
    watch = _attach_client(mcp_client.payment_client, capture, gate, wait_s)
    call_tool = mcp_client.call_tool

    def capturing_call_tool(name: str, args: JsonObject | None = None, **kwargs: Any) -> Any:
        result = call_tool(name, args, **kwargs)
        _observe_tool_result(capture, watch, name, result)
        return result

    mcp_client.call_tool = capturing_call_tool
    return mcp_client


def _off_the_loop(hook: Callable[[Any], Any], paying_method: Any) -> Callable[[Any], Any]:
    """`hook` as it is for a sync client; for an async client (its `paying_method` is a coroutine function), a
    coroutine running it in a worker thread (the package awaits what a hook returns), since a decision may
    wait on the network."""
    if not inspect.iscoroutinefunction(paying_method):
        return hook

    def in_a_thread(context: Any) -> Awaitable[Any]:
        return asyncio.to_thread(hook, context)

    return in_a_thread


def _decide(gate: Gate, url: str, payment_required: Any) -> Decision:
    """The gate's decision on a 402 the package has already parsed: its JSON document is the body it reads."""
    return gate.decide(url, 402, {}, json.dumps(_document(payment_required)).encode())


def _deciding_guard(gate: Gate) -> Any:
    def before_payment(context: Any) -> Any:
        from x402.schemas.hooks import AbortResult

        url = _resource_url(context.payment_required)
        if url is None:
            return AbortResult(reason="omareview gate: the 402 names no resource")
        try:
            decision = _decide(gate, url, context.payment_required)
        except InputError as exc:
            return AbortResult(reason=f"omareview gate: {exc}")
        if decision.action != "pay":
            return AbortResult(reason=f"omareview gate: {decision.action}: {'; '.join(decision.reasons)}")
        refusal = within_approval(decision, context.selected_requirements)
        return AbortResult(reason=f"omareview gate: {refusal}") if refusal else None

    return before_payment


def paying_session(
    x402_client: Any, capture: ReceiptCapture, gate: Gate | None = None, session: requests.Session | None = None
) -> requests.Session:
    """A `requests.Session` that pays 402s with an `x402ClientSync` through the package's own requests
    adapter, capturing every payment through the client's hooks (`attach`).

    Parameters:
        x402_client: the `x402` package's `x402ClientSync`.
        capture: where offers and receipts go.
        gate: decides before each payment.
        session: the session to mount the adapter on (None: a new one).
    """
    import requests
    from x402.http.clients.requests import x402_http_adapter

    attach(x402_client, capture, gate)
    paying = session or requests.Session()
    adapter = x402_http_adapter(x402_client)
    paying.mount("https://", adapter)
    paying.mount("http://", adapter)
    return paying


class McpSessionAdapter:
    """Lets the `x402` package's async `x402MCPClient` drive the Python `mcp` SDK's `ClientSession`.

    The package's client calls `call_tool({"name", "arguments", "_meta"})` and reads `_meta` off the result,
    as the TypeScript SDK shapes them; the Python session takes the parts apart and calls it `meta`. With this
    adapter the package's hooks (and so `attach`) see every paid tool call.

    Parameters:
        session: an initialized `mcp.ClientSession`.
    """

    def __init__(self, session: Any) -> None:
        self.session = session

    async def call_tool(self, params: JsonObject, **_: Any) -> Any:
        from types import SimpleNamespace

        result = await self.session.call_tool(params["name"], params.get("arguments") or {}, meta=params.get("_meta"))
        return SimpleNamespace(
            content=[item.model_dump() for item in result.content],
            isError=result.isError,
            _meta=result.meta or {},
            structuredContent=result.structuredContent,
        )

    async def list_tools(self) -> Any:
        return await self.session.list_tools()
