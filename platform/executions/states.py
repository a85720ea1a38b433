"""The execution state machine. Every transition is one guarded UPDATE (``WHERE status = ANY(allowed)``),
so a cancel racing a finish, or two workers, cannot both win."""

QUEUED, RUNNING, PAUSED, AWAITING_REVIEW = "queued", "running", "paused", "awaiting_review"
COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT = "completed", "partial", "failed", "canceled", "timed_out"

FINAL = (COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT)
LIVE = (RUNNING, PAUSED, AWAITING_REVIEW)  # a worker holds these and heartbeats

# which states each transition may start from
CLAIM_FROM = (QUEUED,)
FINISH_FROM = (RUNNING, PAUSED, AWAITING_REVIEW)
CANCEL_NOW_FROM = (QUEUED,)  # nobody runs it: cancel and refund at once
CANCEL_REQUEST_FROM = (RUNNING, PAUSED, AWAITING_REVIEW)  # the runner acts at the next step boundary
PAUSE_FROM = (RUNNING,)
RESUME_FROM = (PAUSED,)
