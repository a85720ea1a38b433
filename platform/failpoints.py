"""Named points where a test stops a process on purpose, to prove that a crash there loses nothing.

A process started with ``AGENTLEDGER_FAILPOINTS=archive.written`` (comma-separated names) that reaches
that point writes the name to the file ``AGENTLEDGER_FAILPOINT_MARKER`` names and stops there (a blocking
sleep: the test kills it with SIGKILL, as a crash would). Unset, as in production, ``reach`` is one
environment lookup. After FoundationDB's and TiKV's failpoints: the crash is real, not simulated."""

from __future__ import annotations

import os
import time


def reach(name: str) -> None:
    wanted = os.environ.get("AGENTLEDGER_FAILPOINTS")
    if not wanted or name not in wanted.split(","):
        return
    marker = os.environ.get("AGENTLEDGER_FAILPOINT_MARKER")
    if marker:
        with open(marker, "w") as out:
            out.write(name)
    time.sleep(3600)  # blocking on purpose: nothing else in this process moves until it is killed
