"""Notification tables: the email outbox (rows are written in the business transaction, sent later), each
address's preferences, and the weekly digest's claim per person and ISO week.

``event`` is the event kind that caused the row (``invited``, ``review_requested``…) and ``kind`` the mail's
category (its template); ``dedupe_key`` is unique, so the same event emitted twice queues one email.
``message_id`` is fixed when the row is queued, so a message re-sent after a crash carries the same
``Message-ID`` and mail clients fold the two."""

from piccolo.columns import JSONB, UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


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
    message_id = Varchar(length=255, default="")
    headers = JSONB(default={})  # Message-ID, List-Unsubscribe…: what the sender adds to From/To/Subject
    next_attempt_at = Timestamptz(null=True, default=None)  # after a temporary failure: the backoff's end
    failed_at = Timestamptz(null=True, default=None)  # given up: a permanent answer, or out of attempts


class NotificationPreference(Table, tablename="notification_preferences"):
    """What one address wants to hear. Keyed by the address (stored lower-cased, as users' are), so an
    invitee who is not a user yet can still unsubscribe, and keeps that choice on signing up. No row: the
    defaults (``preferences.CATEGORIES``)."""

    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)
    run_finished = Boolean(default=True)
    run_finished_minutes = Integer(default=5)
    run_failed = Boolean(default=True)
    credit_threshold = Boolean(default=False)
    credit_threshold_credits = BigInt(null=True, default=None)
    low_balance = Boolean(default=True)
    purchase_receipt = Boolean(default=True)
    restore_requested = Boolean(default=True)
    weekly_digest = Boolean(default=True)
    review_requested = Boolean(default=True)
    run_shared = Boolean(default=True)
    invitation = Boolean(default=True)
    timezone = Varchar(length=64, null=True, default=None)  # None: the first workspace's
    updated_at = Timestamptz(default=TimestamptzNow())


class DigestWeek(Table, tablename="digest_weeks"):
    """A person's weekly digest for one ISO week was decided (unique per user and week): a second
    scheduler, a retry or a pass after a crash finds it claimed and sends nothing more."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False)
    week = Varchar(length=10)  # "2026-W49"
    sent = Boolean(default=False)  # False: no activity that week, so no digest
    created_at = Timestamptz(default=TimestamptzNow())
