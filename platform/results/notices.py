"""What the run page says after someone acts on results: one sentence and its kind.

The kind (``success``, ``warning``, ``error``, the page's alert styles) is decided here, next to the
outcomes, rather than by the page: "Apply selected" that applied nothing is a warning that says why,
not a green banner; a push the site refused is an error; only a clean result is a success.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

KINDS = ("success", "warning", "error")
NOUNS = {"recommendation": ("recommendation", "recommendations"), "content": ("text", "texts")}


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str  # success | warning | error
    text: str


def _count(n: int, kind: str) -> str:
    one, many = NOUNS.get(kind, ("result", "results"))
    return f"{n} {one if n == 1 else many}"


def _counted(rows: Iterable[dict[str, Any]]) -> str:
    kinds = Counter(row["kind"] for row in rows)
    return " and ".join(_count(n, kind) for kind, n in kinds.items()) or "0 results"


def decided(decision: str, rows: list[dict[str, Any]]) -> Notice:
    """'Approved 3 recommendations', 'Rejected 1 recommendation'."""
    verb = {"approve": "Approved", "reject": "Rejected"}[decision]
    return Notice("success", f"{verb} {_counted(rows)}")


def applied(outcomes: list[Any]) -> Notice:
    """The counts and why any were skipped or failed, e.g. 'Nothing was applied: tick approved
    recommendations first. 0 applied, 0 failed, 1 skipped (it is open: approve it first).'"""
    count = Counter(o.outcome for o in outcomes)
    skipped = count["skipped"] + count["already_applied"] + count["not_found"]
    skip_why = sorted({o.reason for o in outcomes if o.outcome in ("skipped", "not_found") and o.reason})
    if count["already_applied"]:
        skip_why.append("already applied")
    fail_why = sorted({o.reason for o in outcomes if o.outcome == "apply_failed" and o.reason})
    tally = (f"{count['applied']} applied, {count['apply_failed']} failed"
             + (f" ({'; '.join(fail_why)})" if fail_why else "")
             + f", {skipped} skipped" + (f" ({'; '.join(skip_why)})" if skip_why else ""))
    if count["apply_failed"]:
        return Notice("error", tally)
    if count["applied"] == 0:
        if any(getattr(o, "code", None) == "not_approved" for o in outcomes):
            why = "tick approved recommendations first"
        elif count["already_applied"] == len(outcomes):
            why = "the selected changes were already applied"
        else:
            why = "none of the selected changes could be applied now"
        return Notice("warning", f"Nothing was applied: {why}. {tally}.")
    return Notice("warning" if skipped else "success", tally)


def reviewed(decision: str) -> Notice:
    if decision == "approve":
        return Notice("success", "Approved: the run is queued to go on with its next steps.")
    return Notice("success", "Rejected: the run completes without its later steps.")


def edited(row: dict[str, Any]) -> Notice:
    name = row.get("title") or (row.get("field") or "text").replace("_", " ")
    return Notice("success", f"Saved your edit of {name}: what is saved is what gets published.")


def ticked(row: dict[str, Any]) -> Notice:
    return Notice("success", f"{'Marked done' if row['status'] == 'done' else 'Reopened'}: {row['title']}")
