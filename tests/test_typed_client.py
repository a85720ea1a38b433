"""A typed client generated from the served OpenAPI schema (openapi-python-client) drives one real flow:
list the agents, estimate, start a run, read it once a worker finished it, find it in the history,
check the wallet, and meet a 404 as the documented error body. A schema that stops describing the
server (a missing model, a wrong list shape, an undocumented error) fails here loudly."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import httpx

from agentledger.agents import runner

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


def generate(live_url: str, into: Path):
    schema = into / "openapi.json"
    schema.write_bytes(httpx.get(f"{live_url}/api/v1/schema/openapi.json").content)
    made = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--meta", "none", "--output-path",
         str(into / "agentledger_client")],
        capture_output=True, text=True, timeout=300, cwd=into,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},  # its ruff formats the code
    )
    assert made.returncode == 0, made.stdout + made.stderr
    # Every model must come through: "Unable to process schema" means the document broke a generator.
    said = made.stdout + made.stderr
    for trouble in ("Unable to process schema", "will not be generated", "Invalid property"):
        assert trouble not in said, said
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module("agentledger_client")
    finally:
        sys.path.remove(str(into))


async def test_a_client_generated_from_the_schema_runs_a_flow(live_url, factory, tmp_path):
    team = await factory.team()
    await factory.credits("acme", 50)
    client_pkg = generate(live_url, tmp_path)
    from agentledger_client.api.billing import api_v1_workspaces_ws_wallet_wallet as wallet_op
    from agentledger_client.api.executions import (
        api_v1_workspaces_ws_agents_list_agents as list_agents,
    )
    from agentledger_client.api.executions import (
        api_v1_workspaces_ws_executions_estimate_estimate as estimate_op,
    )
    from agentledger_client.api.executions import (
        api_v1_workspaces_ws_executions_execution_id_read as read_op,
    )
    from agentledger_client.api.executions import (
        api_v1_workspaces_ws_executions_list_executions as list_op,
    )
    from agentledger_client.api.executions import (
        api_v1_workspaces_ws_executions_start as start_op,
    )
    from agentledger_client.models import Error, ExecutionOut, StartIn, StartInInputs

    api = client_pkg.AuthenticatedClient(base_url=live_url, token=team.admin.token, raise_on_unexpected_status=True)
    async with api:
        agents = await list_agents.asyncio(ws="acme", client=api)
        noop = next(a for a in agents.items if a.name == "noop")
        assert agents.next_cursor is None and noop.cost.per_item == 1

        body = StartIn(agent="noop", inputs=StartInInputs.from_dict({}), scope=3)
        estimate = await estimate_op.asyncio(ws="acme", client=api, body=body)
        assert (estimate.estimate, estimate.available, estimate.affordable) == (3, 50, True)

        started = await start_op.asyncio(ws="acme", client=api, body=body)
        assert isinstance(started, ExecutionOut) and started.status == "queued" and started.credits_reserved == 3
        await runner.run_execution(started.id)  # the worker's own code, in this process

        run = await read_op.asyncio(ws="acme", execution_id=started.id, client=api)
        assert (run.status, run.credits_charged, run.items_processed) == ("completed", 3, 3)
        history = await list_op.asyncio(ws="acme", client=api, agent="noop")
        assert [r.id for r in history.items] == [started.id]
        wallet = await wallet_op.asyncio(ws="acme", client=api)
        assert (wallet.available, wallet.held) == (47, 0)

        missing = await read_op.asyncio_detailed(ws="globex", execution_id=started.id, client=api)
        assert missing.status_code == 404 and isinstance(missing.parsed, Error)
        assert missing.parsed.error == "not_found"
