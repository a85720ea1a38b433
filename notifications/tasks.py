"""Notification actors (thin: each calls one service function)."""

from uuid import UUID

from agentledger.notifications import sender
from agentledger.platform.broker import task


@task(queue_name="email", max_retries=8, min_backoff=5_000, max_backoff=600_000)
async def deliver_email(outbox_id: str) -> None:
    await sender.deliver(UUID(outbox_id))


@task(queue_name="default", max_retries=3)
async def sweep_outbox() -> int:
    """Re-send emails whose delivery job never ran; the lease in ``deliver`` keeps each one single."""
    ids = await sender.stranded()
    for outbox_id in ids:
        deliver_email.send(str(outbox_id))
    return len(ids)
