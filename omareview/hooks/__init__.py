"""The agent side: capture receipts as an agent pays, keep them in a durable outbox, review them later."""

from omareview.hooks.capture import CaptureEvent, ReceiptCapture, ReviewDraft
from omareview.hooks.httpx_hook import AsyncCapturingTransport, CapturingTransport, install_hook, paying_client
from omareview.hooks.outbox import Outbox, OutboxEntry
from omareview.hooks.submitter import AsyncSubmitter, SubmitReport, Submitter

__all__ = [
    "AsyncCapturingTransport",
    "AsyncSubmitter",
    "CaptureEvent",
    "CapturingTransport",
    "Outbox",
    "OutboxEntry",
    "ReceiptCapture",
    "ReviewDraft",
    "SubmitReport",
    "Submitter",
    "install_hook",
    "paying_client",
]
