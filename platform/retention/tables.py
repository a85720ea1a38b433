"""Retention's own tables: each workspace's policy, restore requests and the alerts admins see.

The tombstone of an archived run is its ``executions`` row itself (``archived_at`` and the ``archive_*``
columns set, its children gone): the run list, its filters and the visibility rule keep working on it
unchanged, and the ledger, which names runs by id, never loses the run it names."""

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


class RetentionPolicy(Table, tablename="retention_policies"):
    """A workspace's retention, in days; a workspace without a row has the defaults (policy.defaults())."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, unique=True)
    completed_days = Integer(default=365)  # completed and partial runs
    failed_days = Integer(default=90)  # failed, canceled and timed-out runs
    files_days = Integer(default=90)  # files agents made (screenshots, CSVs)
    downloads_days = Integer(default=30)  # generated downloads (PDFs)
    restore_grace_days = Integer(default=7)  # a restored run is not archived again before this
    auto_approve = Boolean(default=False)  # members' restore requests start without an admin
    updated_by = ForeignKey(User, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class RestoreRequest(Table, tablename="restore_requests"):
    """Someone asked for an archived run back. pending -> approved -> done | failed, or rejected."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    execution = UUID()
    agent = Varchar(length=64, default="")  # the run's, so the Requests list names it without a join
    requested_by = ForeignKey(User, null=True, default=None)
    status = Varchar(length=12, default="pending")  # pending | approved | rejected | done | failed
    error = Text(null=True, default=None)  # why it failed, in words for the requester
    decided_by = ForeignKey(User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RetentionAlert(Table, tablename="retention_alerts"):
    """Something a pass could not do safely (a checksum that did not match, storage that refused), shown
    to admins on the Retention page until they dismiss it."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    kind = Varchar(length=24)  # checksum_mismatch | storage_unavailable | restore_failed
    message = Text()
    runs = Integer(default=0)
    dismissed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
