"""A result row as the API's flat ``ResultOut`` (each kind's body fields lifted to the top)."""

from __future__ import annotations

from typing import Any

from agentledger.platform.results.schemas import ResultOut, RevisionOut

COMMON = ("id", "kind", "execution", "created_at", "step")
DECIDED = ("status", "decided_by", "decided_at", "applied_by", "applied_at", "apply_error")
BY_KIND: dict[str, tuple[str, ...]] = {
    "recommendation": ("target", "field", "priority", *DECIDED),
    "content": ("target", "field", "title", *DECIDED),
    "report": ("title",),
    "score": (),
    "action_item": ("title", "target", "priority", "decided_by", "decided_at"),
    "extracted": (),
    "artifact": (),
}
BODY: dict[str, tuple[str, ...]] = {
    "recommendation": ("before", "after", "reason", "check"),
    "content": ("text", "version"),
    "report": ("summary", "sections"),
    "score": ("value", "scale", "explanation", "unit"),
    "action_item": ("detail", "check"),
    "extracted": ("data",),
    "artifact": ("description", "content_type", "size"),
}


def present(row: dict[str, Any], *, workspace_slug: str, revisions: list[dict[str, Any]] | None = None,
            files_base: str | None = None) -> ResultOut:
    """``workspace_slug`` builds an artifact's download link (served through the API, which checks access);
    ``files_base`` serves it from elsewhere instead (a shared link's own path)."""
    kind = row["kind"]
    fields = {name: row[name] for name in (*COMMON, *BY_KIND[kind])}
    fields.update({name: row["body"].get(name) for name in BODY[kind]})
    if kind in ("score", "extracted", "artifact"):
        fields["name"] = row["title"]
    if kind == "action_item":
        fields["done"] = row["status"] == "done"
    if revisions is not None:
        fields["revisions"] = [RevisionOut(r["version"], r["text"], r["edited_by"], r["created_at"])
                               for r in revisions]
    if kind == "artifact":
        base = files_base or f"/api/v1/workspaces/{workspace_slug}/results"
        fields["download_url"] = f"{base}/{row['id']}/download"
    return ResultOut(**fields)
