"""The e-mail outbox: actions queue e-mails in their own transaction; a worker in every process
claims due ones and sends them.

Queued with the change that causes it, an e-mail exists exactly when its change does, and no
request waits for an SMTP server. A worker claims a batch in one transaction (PostgreSQL skips
rows another process holds; SQLite has one writer), which leases them for ``_LEASE`` seconds,
then sends each: a sent e-mail is marked sent, a failed one is tried again after a growing
delay, and given up after ``outbox_max_attempts``. A process that dies mid-send leaves the
lease to run out, and another process sends the e-mail then. A ``dedupe_key`` makes a queued
e-mail unique: a second one with the same key is not queued at all.

Secrets an e-mail carries (a code, an invitation's link) are queued sealed and opened only
as it is sent. Some e-mails are written when sent, not when queued: a reply e-mail gathers
the replies written by then and mints its single-use link (``actions.continuity``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from frontdesk.mail import Email, MailError
from frontdesk.services import Services
from frontdesk.storage import outbox
from frontdesk.storage.database import Transaction
from frontdesk.storage.outbox import OutboxRecord

log = logging.getLogger("frontdesk.outbox")

_LEASE = 120.0  # seconds a claimed e-mail is left to its process
_BATCH = 20
_FIRST_RETRY = 30.0  # seconds; doubled with every failed attempt
_LAST_RETRY = 3600.0
_SEALED = "sealed"

# Renders an e-mail as it is sent: the subject and body to send and to keep, and the
# payload to keep (secrets dropped); None: nothing to send any more (e.g. no replies left).
Rendered = tuple[Email, str, str, dict[str, Any]]
Renderer = Callable[[Services, OutboxRecord], Awaitable[Rendered | None]]
_RENDERERS: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that writes e-mails of ``kind`` when they are sent."""

    def register(fn: Renderer) -> Renderer:
        _RENDERERS[kind] = fn
        return fn

    return register


async def do_enqueue(
    services: Services,
    tx: Transaction,
    *,
    project_id: str | None,
    kind: str,
    to: str,
    subject: str,
    body: str,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    sealed: dict[str, str] | None = None,
) -> bool:
    """Queue an e-mail within ``tx``; False when ``dedupe_key`` was queued before. The
    worker is woken once ``tx`` commits.

    ``sealed`` holds secrets (a code, a token's link) that ``body`` names as ``{name}``: they
    are stored encrypted, put into the body only as it is sent, and dropped once it is.
    """
    email_id = services.ids.object_id()
    payload = dict(payload or {})
    if sealed:
        payload[_SEALED] = {
            name: services.secret_box.seal(value, context=email_id)
            for name, value in sealed.items()
        }
    queued = await outbox.enqueue(
        tx, id=email_id, project_id=project_id, kind=kind, to_address=to,
        subject=subject, body=body, payload=payload, now=services.now_ms(),
        dedupe_key=dedupe_key,
    )
    if queued:
        services.wake_outbox_on_commit(tx)
    return queued


async def send_due(services: Services) -> int:
    """Claim the due e-mails and send them; how many were sent."""
    if not services.mailer.configured:
        return 0
    now = services.now_ms()
    async with services.db.transaction() as tx:
        claimed = await outbox.claim_due(tx, now=now, lease_ms=int(_LEASE * 1000), limit=_BATCH)
    sent = 0
    for row in claimed:
        sent += await _send_one(services, row)
    return sent


async def _send_one(services: Services, row: OutboxRecord) -> int:
    try:
        rendered = await _render(services, row)
        if rendered is None:
            async with services.db.transaction() as tx:
                await outbox.mark_sent(tx, row["id"], now=services.now_ms(), subject=row["subject"],
                                       body="(nothing left to send)", payload={})
            return 0
        email, subject, body, payload = rendered
        await services.mailer.send(email)
    except MailError as exc:
        await _failed(services, row, str(exc))
        return 0
    except Exception as exc:
        log.exception("could not send e-mail %s", row["id"])
        await _failed(services, row, type(exc).__name__)
        return 0
    async with services.db.transaction() as tx:
        await outbox.mark_sent(tx, row["id"], now=services.now_ms(), subject=subject, body=body,
                               payload=payload)
    return 1


async def _render(services: Services, row: OutboxRecord) -> Rendered | None:
    renderer = _RENDERERS.get(row["kind"])
    if renderer is not None:
        return await renderer(services, row)
    payload = dict(row["payload"])
    body = row["body"]
    for name, value in payload.pop(_SEALED, {}).items():
        body = body.replace("{" + name + "}", services.secret_box.open(value, context=row["id"]))
    email = Email(to=row["to_address"], subject=row["subject"], body=body)
    return email, row["subject"], row["body"], payload


async def _failed(services: Services, row: OutboxRecord, error: str) -> None:
    now = services.now_ms()
    retry_at = None
    if row["attempts"] < services.settings.outbox_max_attempts:
        delay = min(_FIRST_RETRY * 2 ** (row["attempts"] - 1), _LAST_RETRY)
        retry_at = now + int(delay * 1000)
    log.warning("e-mail %s not sent (attempt %d): %s", row["id"], row["attempts"], error)
    async with services.db.transaction() as tx:
        await outbox.mark_failed(tx, row["id"], error=error, retry_at=retry_at, now=now)


class OutboxWorker:
    """This process's sender: looks at the outbox every ``outbox_poll_interval`` seconds, and
    at once when this process queues an e-mail."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self.services.mailer.configured:
            self._task = asyncio.create_task(self._run(), name="frontdesk-outbox")

    async def close(self) -> None:
        """Stop after the batch being sent (within the SMTP timeout): an e-mail cut off
        mid-send would be sent again by another process once its lease ends."""
        if self._task is None:
            return
        self._stopping = True
        self.services.outbox_wakeup.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, timeout=self.services.settings.smtp_timeout)

    async def _run(self) -> None:
        wakeup = self.services.outbox_wakeup
        interval = self.services.settings.outbox_poll_interval
        while not self._stopping:
            wakeup.clear()
            try:
                await send_due(self.services)
            except Exception:
                log.exception("the outbox could not be read; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=interval)
