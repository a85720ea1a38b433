"""``agentledger reconcile``: the ledger's sums equal each wallet (available, held, owed), or the command
says which workspace is off and exits 1."""

from __future__ import annotations

import subprocess

from agentledger.billing import reconcile
from agentledger.platform.database import atomic, fetch
from tests.support.processes import cli


def _reconcile(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli("reconcile", *args), capture_output=True, text=True, timeout=60)


async def test_books_that_agree_pass_and_a_drifted_wallet_is_named(factory):
    await factory.team()
    acme = await factory.credits("acme", 700)
    globex = await factory.credits("globex", 50)
    from agentledger.billing import ledger

    async with atomic():
        await ledger.claw_back(globex, 80, key="test:clawback", memo="refund")  # 50 taken, 30 owed
    assert (await reconcile.workspace(globex)).balanced
    assert (await reconcile.workspace(globex)).books == ledger.Balance(0, 0, 30)
    ok = _reconcile()
    assert ok.returncode == 0 and "2 of 2 workspaces balance" in ok.stdout, ok.stdout + ok.stderr

    # a wallet changed behind the ledger's back (the bug reconcile exists to catch)
    await fetch("UPDATE wallets SET available = available + 5 WHERE workspace = {}", acme)
    off = _reconcile()
    assert off.returncode == 1
    assert "acme: OFF: available: wallet 705, ledger 700" in off.stdout and "1 of 2 workspaces balance" in off.stdout
    assert _reconcile("--workspace", "globex").returncode == 0
