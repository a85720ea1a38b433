"""What changes while the demo shop runs: fixes pushed through the connector, hits, the injected fault.

Changes are kept as an ordered log and the live values are replayed from it, so a state file holding
the log is enough to bring a restarted shop back with every applied fix.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FAULTS = (None, "500", "timeout", "401")


@dataclass
class SiteState:
    state_file: Path | None = None
    changes: list[dict] = field(default_factory=list)
    values: dict[tuple[str, str], str] = field(default_factory=dict)  # (page path, field) -> live value
    hits: Counter = field(default_factory=Counter)
    fault: str | None = None

    def __post_init__(self) -> None:
        if self.state_file and self.state_file.exists():
            for change in json.loads(self.state_file.read_text())["changes"]:
                self._apply(change)

    def value(self, path: str, name: str, default: str | None) -> str | None:
        return self.values.get((path, name), default)

    def find_by_key(self, key: str) -> dict | None:
        return next((c for c in self.changes if c.get("key") == key), None)

    def record(self, *, target: str, path: str, name: str, before: str | None, after: str,
               key: str | None = None) -> dict:
        change = {"id": len(self.changes) + 1, "target": target, "path": path, "field": name,
                  "before": before, "after": after}
        if key:
            change["key"] = key
        self._apply(change)
        self._save()
        return change

    def reset(self) -> None:
        """Back to the shop as shipped: no fixes, no hits, no fault (and an empty state file)."""
        self.changes.clear()
        self.values.clear()
        self.hits.clear()
        self.fault = None
        self._save()

    def _apply(self, change: dict) -> None:
        self.changes.append(change)
        self.values[(change["path"], change["field"])] = change["after"]

    def _save(self) -> None:
        if not self.state_file:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        partial.write_text(json.dumps({"changes": self.changes}, indent=1))
        os.replace(partial, self.state_file)
