"""The execution state machine. Every transition is one guarded UPDATE (``WHERE status = ANY(allowed)``),
so a cancel racing a finish, or two workers, cannot both win."""

QUEUED, RUNNING, PAUSED, AWAITING_REVIEW = "queued", "running", "paused", "awaiting_review"
COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT = "completed", "partial", "failed", "canceled", "timed_out"

FINAL = (COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT)
LIVE = (RUNNING, PAUSED)  # a worker holds these and heartbeats
WAITING = (PAUSED, AWAITING_REVIEW)  # waiting on a person (a review holds no worker)

# which states each transition may start from
CLAIM_FROM = (QUEUED,)
FINISH_FROM = (RUNNING, PAUSED)  # a worker finishes what it holds; a run awaiting review is canceled, not finished
CANCEL_NOW_FROM = (QUEUED, AWAITING_REVIEW)  # nobody runs it: cancel now (processed items are charged)
CANCEL_REQUEST_FROM = (RUNNING, PAUSED)  # the runner acts at the next step boundary
PAUSE_FROM = (RUNNING,)
RESUME_FROM = (PAUSED,)
REVIEW_FROM = (RUNNING,)  # a running agent asks for a review
DECIDE_FROM = (AWAITING_REVIEW,)  # a decision sends it back to the queue


def credit_story(run: dict) -> str:
    """One line on where a run's credits went, e.g. "8 of 10 items processed (2 failed): 9 charged, 2
    refunded for the 2 not processed" (the charge includes the agent's base fee, if it has one)."""
    reserved, charged, refunded = run["credits_reserved"], run["credits_charged"], run["credits_refunded"]
    if run["mode"] == "test":
        return "A test run: nothing was reserved or charged."
    if run["status"] not in FINAL:
        return f"{reserved} held while the run lasts; what it does not use comes back."
    if run["status"] == FAILED:
        return f"The run failed: all {refunded} refunded."
    if not charged:
        return f"Nothing was processed: all {refunded} refunded."
    processed, failed, scope = run["items_processed"], run["items_failed"], run["scope"]
    unreached = max(scope - processed - failed, 0)
    reasons = ([f"{failed} failed"] if failed else []) + ([f"{unreached} not reached"] if unreached else [])
    why = f" ({', '.join(reasons)})" if reasons else ""
    story = f"{processed} of {scope} items processed{why}: {charged} charged"
    if refunded:
        story += f", {refunded} refunded for the {scope - processed} not processed"
    return story + "."
