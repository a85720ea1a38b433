"""A notice carried through a redirect in the session (post, redirect, get).

A form handler answers 303 so that reloading the page it lands on never submits the form again; what
the action did travels in the server-side session, bound to the run it is about, and is shown once by
the next page of that run. Nothing of it comes from the URL, so a link cannot make the page say things.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request

from agentledger.platform.results.notices import KINDS, Notice

KEY = "flash"


def put(request: Request, run_id: UUID, notice: Notice) -> None:
    session = dict(request.scope.get("session") or {})
    session[KEY] = {"run": str(run_id), "kind": notice.kind, "text": notice.text}
    request.set_session(session)


def take(request: Request, run_id: UUID) -> dict[str, Any]:
    """The notice waiting for this run's page as the page's context (``notice``, ``notice_kind``), once."""
    session = request.scope.get("session") or {}
    found = session.get(KEY)
    if not isinstance(found, dict) or found.get("run") != str(run_id):
        return {}
    request.set_session({k: v for k, v in session.items() if k != KEY})
    kind = found.get("kind") if found.get("kind") in KINDS else "success"
    return {"notice": str(found.get("text") or ""), "notice_kind": kind}
