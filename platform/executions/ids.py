"""A run's id: a UUIDv7 (RFC 9562), whose first 48 bits are the moment the run was made, in milliseconds,
and the rest random.

Runs are made, finished and archived in roughly the same order, and everything of a run is found by its id:
its steps, log, items and results through their ``execution`` indexes. With ids in time order, the runs a
retention batch takes (the oldest due, in order) sit side by side in those indexes, and the batch reads
and deletes neighbouring index pages instead of a thousand scattered ones: in bench/archive.py the
database's time for a batch's documents fell from 78 to 70 ms and for its swap from 42 to 37 ms, and a
pass of 100,000 runs took 11.1-12.7 s in 13 of 15 runs (median 12.3), against 12.6-14.6 s (median 13.0) in
14 runs with random ids the same day. New rows also land at the right edge of those indexes rather than
anywhere in them. Runs made before this keep their random (version 4) ids.

An id is no secret: every lookup is scoped to its workspace (another workspace's id answers 404), and a
share link carries its own token. What a UUIDv7 tells, when the run was made, the run's page shows anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from uuid_utils.compat import uuid7

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_run_id(made_at: datetime | None = None) -> UUID:
    """A new run's id, for a run made now, or at ``made_at`` (aware; the demo's history, made in the past).
    The millisecond is counted in integers: through a float timestamp, one could land a millisecond early."""
    if made_at is None:
        return uuid7()
    return uuid7(nanoseconds=(made_at - _EPOCH) // timedelta(milliseconds=1) * 1_000_000)
