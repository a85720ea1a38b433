"""The execution state machine. Every transition is one guarded UPDATE (``WHERE status = ANY(allowed)``),
so a cancel racing a finish, or two workers, cannot both win."""

QUEUED, RUNNING, PAUSED, AWAITING_REVIEW = "queued", "running", "paused", "awaiting_review"
COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT = "completed", "partial", "failed", "canceled", "timed_out"

FINAL = (COMPLETED, PARTIAL, FAILED, CANCELED, TIMED_OUT)
LIVE = (RUNNING,)  # a worker holds it and heartbeats
WAITING = (PAUSED, AWAITING_REVIEW)  # waiting on a person; no worker is held
STATUSES = (QUEUED, RUNNING, *WAITING, *FINAL)  # every status, in the order the list's filter offers them

# Status groups, once: the run list's outcome filter (API ``outcome=``) and its tabs (pages ``tab=``).
SUCCEEDED = (COMPLETED, PARTIAL)  # it did its work, all or part of it
UNSUCCESSFUL = (FAILED, TIMED_OUT)  # it did not finish its work (a cancel is neither)
NOT_FINISHED = (QUEUED, RUNNING, *WAITING)
OUTCOMES = {"success": SUCCEEDED, "failure": UNSUCCESSFUL}
TABS = {"all": (), "running": NOT_FINISHED, "completed": OUTCOMES["success"], "failed": OUTCOMES["failure"]}

# which states each transition may start from
CLAIM_FROM = (QUEUED,)
FINISH_FROM = (RUNNING,)  # a worker finishes what it holds; a waiting run is canceled, not finished
CANCEL_NOW_FROM = (QUEUED, PAUSED, AWAITING_REVIEW)  # nobody runs it: cancel now (processed items are charged)
CANCEL_REQUEST_FROM = (RUNNING,)  # the worker stops the agent within a second (or at its next item)
PAUSE_FROM = (RUNNING,)  # a request: the agent pauses at its next safe point ("pausing…")
PAUSE_HANDOFF_FROM = (RUNNING,)  # the worker lets go of a run that reached a safe point
RESUME_FROM = (PAUSED,)  # back to the queue: a worker continues from its recorded steps and items
REVIEW_FROM = (RUNNING,)  # a running agent asks for a review
DECIDE_FROM = (AWAITING_REVIEW,)  # a decision sends it back to the queue
STOPPED_EARLY = (CANCELED, TIMED_OUT)  # it stopped before its end: "resume where it stopped"


def actions(run: dict) -> tuple[str, ...]:
    """What may be done to a run in its current state: the one rule the API enforces and the pages show.
    ``run`` needs status, cancel_requested, pause_requested, attempts, failed_step and items_failed (and
    archived_at, where the caller has it)."""
    if run.get("archived_at"):
        return ("restore",)  # its record is in storage: nothing else until it is back
    status = run["status"]
    stopping = run["cancel_requested"]
    allowed: list[str] = []
    if status in (QUEUED, PAUSED, AWAITING_REVIEW) or (status == RUNNING and not stopping):
        allowed.append("cancel")
    if status == RUNNING and not stopping and not run["pause_requested"]:
        allowed.append("pause")
    if status == PAUSED or (status == RUNNING and not stopping and run["pause_requested"]):
        allowed.append("resume")
    allowed.append("rerun")
    if status in FINAL:
        allowed.append("delete")
        continuation = continuation_of(run)
        if continuation:
            allowed.append(continuation)
    return tuple(allowed)


def continuation_of(run: dict) -> str | None:
    """How a finished run can be taken further without redoing what worked, or None when nothing is left:
    from the step that failed, from where a cancel or the time limit stopped it, or only the failed items."""
    if run["failed_step"] is not None:
        return "resume_from_failed_step"
    if run["status"] in STOPPED_EARLY and run["attempts"]:
        return "resume_where_stopped"
    if run["items_failed"]:
        return "retry_failed_items"
    return None


def status_note(run: dict) -> str | None:
    """What the status alone does not say: a stop that is on its way, or one that came too late."""
    status = run["status"]
    if run["cancel_requested"]:
        if status == RUNNING:
            return "canceling…"
        if status in (COMPLETED, PARTIAL):
            return "finished before the cancel took effect"
    if status == RUNNING and run["pause_requested"]:
        return "pausing…"
    return None


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
