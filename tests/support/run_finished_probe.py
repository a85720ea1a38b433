"""Counts ``run_finished`` events across processes: every one that commits is appended as a JSON line to
the file named by RUN_FINISHED_LOG. A real worker loads this module next to its actors
(``python -m dramatiq agentledger.platform.actors tests.support.run_finished_probe``); the test process
installs the same recorder with ``install`` (for endings it drives itself: cancel, rescue, schedules).
The recorder wraps the handler in notifications' table, so what notifications does stays the same."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from agentledger.notifications import service as notifications
from agentledger.platform.database import on_commit


def recorder(path: Path, original: notifications.Handler) -> notifications.Handler:
    async def handler(workspace_id: Any, **facts: Any) -> list[notifications.Message]:
        run = facts["run"]
        line = json.dumps({"run": str(run["id"]), "status": run["status"], "previous_status": facts["previous_status"],
                           "pid": os.getpid()})

        def write() -> None:
            with path.open("a") as log:
                log.write(line + "\n")

        on_commit(write)  # only an event whose transaction commits was emitted
        return await original(workspace_id, **facts)

    return handler


def install(path: Path, handlers: dict[str, notifications.Handler] | None = None) -> None:
    handlers = notifications.HANDLERS if handlers is None else handlers
    handlers["run_finished"] = recorder(path, handlers["run_finished"])


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


if os.environ.get("RUN_FINISHED_LOG"):
    install(Path(os.environ["RUN_FINISHED_LOG"]))
