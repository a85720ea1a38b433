"""What runs produce, as records people act on: one table typed by ``kind``, plus content revisions.

Common, filterable facts are columns (kind, target, field, priority, status, who decided and applied);
the rest of each kind's fields live in ``body`` (before/after/reason, report sections, score value...).
"""

from piccolo.columns import JSONB, UUID, BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


class ExecutionResult(Table, tablename="execution_results"):
    id = UUID(primary_key=True)
    seq = BigSerial()  # emission order, for stable listing and cursors
    workspace = ForeignKey(Workspace, null=False)
    execution = UUID()
    step = Integer(null=True, default=None)  # position of the step that produced it
    kind = Varchar(length=16)  # recommendation | report | score | content | action_item | extracted | artifact
    title = Text(null=True, default=None)
    target = Text(null=True, default=None)
    field = Varchar(length=64, null=True, default=None)
    priority = Varchar(length=8, null=True, default=None)  # high | medium | low
    status = Varchar(length=16, null=True, default=None)  # open | approved | rejected | applied | apply_failed | done
    body = JSONB(default={})
    decided_by = ForeignKey(User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    applied_by = ForeignKey(User, null=True, default=None)
    applied_at = Timestamptz(null=True, default=None)
    apply_error = Text(null=True, default=None)
    apply_started_at = Timestamptz(null=True, default=None)  # a push in flight (no transaction held meanwhile)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ResultRevision(Table, tablename="result_revisions"):
    """Every version of a generated content's text: version 1 is the agent's, later ones are edits. It
    belongs to its run (``execution``) as the run's other records do, and names a result of that run."""

    id = UUID(primary_key=True)
    result = UUID()
    version = Integer()
    text = Text()
    edited_by = ForeignKey(User, null=True, default=None)  # None: written by the agent
    created_at = Timestamptz(default=TimestamptzNow())
    execution = UUID()
