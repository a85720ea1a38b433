"""The execution state machine. Every transition is one guarded UPDATE (``WHERE status = ANY(allowed)``),
so a cancel racing a finish, or two workers, cannot both win."""

QUEUED, RUNNING, PAUSED, AWAITING_REVIEW = "queued", "running", "paused", "awaiting_review"
COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT = "completed", "partial", "failed", "canceled", "timed_out"

FINAL = (COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT)
LIVE = (RUNNING, PAUSED)  # a worker holds these and heartbeats
WAITING = (PAUSED, AWAITING_REVIEW)  # waiting on a person (a review holds no worker)

# which states each transition may start from
CLAIM_FROM = (QUEUED,)
FINISH_FROM = (RUNNING, PAUSED, AWAITING_REVIEW)
CANCEL_NOW_FROM = (QUEUED, AWAITING_REVIEW)  # nobody runs it: cancel now (processed items are charged)
CANCEL_REQUEST_FROM = (RUNNING, PAUSED)  # the runner acts at the next step boundary
PAUSE_FROM = (RUNNING,)
RESUME_FROM = (PAUSED,)
REVIEW_FROM = (RUNNING,)  # a running agent asks for a review
DECIDE_FROM = (AWAITING_REVIEW,)  # a decision sends it back to the queue
