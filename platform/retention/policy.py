"""A workspace's retention policy: how long each kind of thing stays hot, in days, with its bounds.

Defaults (a workspace that never saved one): completed and partial runs 365 days, failed, canceled and
timed-out runs 90, files agents made 90, generated downloads ``EXPORT_LINK_DAYS`` (30), and a restored run
is not archived again for 7. Every value is 1 day to 10 years; anything else is a 422 naming the field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.platform.config import get_settings
from agentledger.platform.errors import Invalid
from agentledger.platform.retention import repository

MIN_DAYS, MAX_DAYS = 1, 3650
DAYS = ("completed_days", "failed_days", "files_days", "downloads_days", "restore_grace_days")
LABELS = {
    "completed_days": "completed and partial runs",
    "failed_days": "failed, canceled and timed-out runs",
    "files_days": "files agents made",
    "downloads_days": "generated downloads",
    "restore_grace_days": "a restored run's grace period",
}


@dataclass(frozen=True, slots=True)
class Policy:
    completed_days: int = 365
    failed_days: int = 90
    files_days: int = 90
    downloads_days: int = 30
    restore_grace_days: int = 7
    auto_approve: bool = False

    def cutoffs(self, moment: datetime) -> tuple[datetime, datetime, datetime]:
        """Runs that finished before these are due: completed or partial, the other endings, and restored
        runs whose grace period is over."""
        return (moment - timedelta(days=self.completed_days), moment - timedelta(days=self.failed_days),
                moment - timedelta(days=self.restore_grace_days))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def defaults() -> Policy:
    """A workspace that never saved a policy: the dataclass's values, and downloads kept
    ``EXPORT_LINK_DAYS`` (the setting that said it before there was a policy)."""
    return Policy(downloads_days=min(max(get_settings().export_link_days, MIN_DAYS), MAX_DAYS))


async def of(workspace_id: UUID) -> Policy:
    row = await repository.policy(workspace_id)
    return Policy(**{name: row[name] for name in repository.POLICY_FIELDS}) if row else defaults()


def changed(current: Policy, changes: dict[str, Any]) -> Policy:
    """``current`` with ``changes`` (a partial update), each checked; unknown names are a 422 too."""
    for name, value in changes.items():
        if name == "auto_approve":
            if not isinstance(value, bool):
                raise Invalid("auto_approve must be true or false", field=name)
            continue
        if name not in DAYS:
            raise Invalid(f"unknown setting '{name[:64]}'; the settings are {', '.join((*DAYS, 'auto_approve'))}",
                          field=name[:64])
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_DAYS <= value <= MAX_DAYS:
            raise Invalid(f"{LABELS[name]}: a whole number of days from {MIN_DAYS} to {MAX_DAYS} (10 years)", field=name)
    return replace(current, **changes)


async def save(workspace_id: UUID, new: Policy, user_id: UUID | None) -> None:
    await repository.save_policy(workspace_id, new.as_dict(), user_id)


def describe(p: Policy) -> list[str]:
    """The policy in plain words, for the settings page."""
    def span(days: int) -> str:
        if days % 365 == 0:
            years = days // 365
            return f"{years} year{'s' if years != 1 else ''}"
        if days % 30 == 0 and days >= 60:
            return f"{days // 30} months"
        return f"{days} day{'s' if days != 1 else ''}"

    return [
        f"Completed and partial runs are archived {span(p.completed_days)} after they finish.",
        f"Failed, canceled and timed-out runs are archived {span(p.failed_days)} after they finish.",
        "Archived runs stay in the list, marked “archived”; their record is kept in storage and can be restored.",
        f"Files agents made (screenshots, CSVs) are deleted {span(p.files_days)} after the run finished.",
        f"Generated downloads (PDFs) are kept {span(p.downloads_days)}, then made again when asked for.",
        f"A restored run is not archived again for {span(p.restore_grace_days)}.",
        "Members' restore requests start at once." if p.auto_approve else
        "Members' restore requests wait for an admin's approval; admins' own start at once.",
        "Running, queued, paused and waiting runs are never archived. Credit history is never archived.",
    ]
