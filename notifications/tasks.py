"""Notification actors (thin: each calls one service function)."""

import asyncio
from uuid import UUID

from agentledger.notifications import digest, sender
from agentledger.platform.broker import task


@task(queue_name="email", max_retries=3, min_backoff=5_000, max_backoff=60_000)
async def deliver_email(outbox_id: str) -> str:
    """One try; after a temporary failure the next try is this message again, sent with the backoff's
    delay (the row's lease holds it until then). Only an error outside SMTP (the database) retries here."""
    delivery = await sender.deliver(UUID(outbox_id))
    if delivery.retry_in is not None:
        await asyncio.to_thread(deliver_email.send_with_options, args=(outbox_id,),
                                delay=int(delivery.retry_in * 1000))
    return delivery.outcome


@task(queue_name="default", max_retries=3)
async def sweep_outbox() -> int:
    """Re-send emails whose delivery job never ran; the lease in ``deliver`` keeps each one single."""
    ids = await sender.stranded()
    for outbox_id in ids:
        deliver_email.send(str(outbox_id))
    return len(ids)


@task(queue_name="default", max_retries=0)
async def send_digests() -> dict[str, int]:
    """Queue the weekly digests that are due (Monday 08:00 in each person's time zone)."""
    return await digest.run()
