"""Notification tables: the email outbox (rows are written in the business transaction, sent later).

``event`` is the event kind that caused the row (``invited``, ``review_requested``…) and ``kind`` the mail's
category (its template); ``dedupe_key`` is unique, so the same event emitted twice queues one email."""

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import Workspace


class EmailOutbox(Table, tablename="email_outbox"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=True, index=True)
    kind = Varchar(length=40)
    event = Varchar(length=40)
    dedupe_key = Varchar(length=400, unique=True)
    to_email = Varchar(length=254)
    subject = Text()
    body_text = Text()
    body_html = Text(default="")
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    claimed_until = Timestamptz(null=True, default=None)  # a sender's lease, so a row goes out once
