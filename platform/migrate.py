"""Apply Piccolo migrations (``migrations/<app>/``) to DATABASE_URL, from zero or from where it stands."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards

from agentledger.platform import database  # noqa: F401 - sets PICCOLO_CONF before Piccolo looks


async def migrate() -> None:
    """Apply what is missing; Piccolo's per-migration chatter is shown only when something fails."""
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}\n{chatter.getvalue()}")
