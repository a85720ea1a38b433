"""Platform housekeeping actors, enqueued by the scheduler."""

from datetime import timedelta

from agentledger.platform.broker import task
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.tables import Invitation

INVITATION_HISTORY = timedelta(days=90)


@task(queue_name="default", max_retries=3)
async def purge_stale_invitations() -> int:
    """Forget invitations that ended (expired or revoked, never accepted) more than 90 days ago."""
    cutoff = now() - INVITATION_HISTORY
    async with atomic():
        rows = await Invitation.delete().where(
            Invitation.accepted_at.is_null() & (Invitation.expires_at < cutoff)
        ).returning(Invitation.id)
    return len(rows)
