"""Credits stay exact under concurrency: many starts against a small wallet, many resolutions of one
run, cancel racing completion, and a hypothesis state machine over every credit operation."""

from __future__ import annotations

import asyncio
import random

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from agentledger.agents import launch
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, PaymentRequired
from agentledger.platform.executions import service, states
from agentledger.platform.executions.tables import Execution
from agentledger.platform.scoping import resolve_scope
from tests.support.books import assert_books_balance, wait_for_status
from tests.support.processes import worker


async def _start(scope, agent_scope: int = 1):
    async with atomic():
        return await launch.start(scope, launch.Request("noop", {}, agent_scope))


async def _claim(execution_id) -> None:
    from agentledger.platform.executions.lifecycle_repository import claim as _claim

    assert await _claim(execution_id) is not None


async def test_a_thousand_concurrent_starts_against_a_hundred_credits(factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    scope = await resolve_scope("acme", team.member.id)

    async def attempt() -> str:
        try:
            await _start(scope)
            return "accepted"
        except PaymentRequired:
            return "refused"

    results = await asyncio.gather(*(attempt() for _ in range(1000)))
    assert results.count("accepted") == 100 and results.count("refused") == 900
    assert await Execution.count() == 100  # a refused start writes nothing
    books = await assert_books_balance(workspace_id)
    assert books["wallet_available"] == 0 and books["wallet_held"] == 100


async def test_fifty_concurrent_resolutions_of_one_run_settle_it_once(factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    scope = await resolve_scope("acme", team.member.id)
    run = await _start(scope, 5)
    await _claim(run["id"])
    outcomes = [states.COMPLETED, states.FAILED, states.CANCELED, states.PARTIAL, states.TIMED_OUT]

    async def resolve(n: int):
        async with atomic():
            if n % 5 == 0:
                try:
                    await service.cancel(scope, run["id"])
                except Conflict:
                    pass
                return None
            return await service.finish(run["id"], outcomes[n % len(outcomes)], items_processed=n % 6)

    results = await asyncio.gather(*(resolve(n) for n in range(50)))
    assert sum(1 for r in results if r is not None) == 1
    books = await assert_books_balance(workspace_id)
    row = await Execution.select().where(Execution.id == run["id"]).first()
    assert row["status"] in states.FINAL
    assert row["credits_charged"] + row["credits_refunded"] == 5
    assert books["wallet_available"] + books.get("spent", 0) == 10 and books["wallet_held"] == 0


async def test_cancel_racing_completion_on_a_real_worker_gives_one_outcome_per_run(factory):
    """Cancels land at random moments: before the worker took the run, while it held it, after it finished.
    Each run's outcome follows from what its cancel met, and the test goes on until a cancel has met a
    run the worker held (the race itself), so it cannot pass on cancels that never contended."""
    team = await factory.team()
    workspace_id = await factory.credits("acme", 1000)
    scope = await resolve_scope("acme", team.member.id)

    async def start_then_cancel():
        run = await _start(scope, 3)
        await asyncio.sleep(random.random() / 8)  # anywhere between queued and finished
        try:
            async with atomic():
                met = await service.cancel(scope, run["id"])
        except Conflict:
            return run["id"], "finished"  # it had already finished
        return run["id"], "held" if met["status"] == states.RUNNING else met["status"]

    met: dict = {}
    with worker({"RUN_HEARTBEAT_SECONDS": "0.5"}):
        for batch in range(60):  # batches of ten, so the worker keeps up and every order happens
            met.update(await asyncio.gather(*(start_then_cancel() for _ in range(10))))
            seen = set(met.values())
            if batch >= 19 and {"finished", "held", states.CANCELED} <= seen:
                break
        finals = {run_id: await wait_for_status(run_id) for run_id in met}
    assert {"finished", "held", states.CANCELED} <= set(met.values()), sorted(met.values())
    assert set(met.values()) == {"finished", "held", states.CANCELED}  # nothing else answers a cancel
    for run_id, row in finals.items():
        outcome = (row["status"], row["items_processed"], row["credits_charged"], row["credits_refunded"])
        if met[run_id] == "finished":  # the worker won: full price, the cancel refused
            assert outcome == (states.COMPLETED, 3, 3, 0), outcome
        elif met[run_id] == states.CANCELED:  # still queued: canceled at once, all refunded
            assert outcome == (states.CANCELED, 0, 0, 3), outcome
        else:  # the race: the worker ends it, canceled at a boundary or completed just before it looked
            assert row["cancel_requested"] and outcome in {
                (states.COMPLETED, 3, 3, 0), *((states.CANCELED, n, n, 3 - n) for n in range(4))}, outcome
    books = await assert_books_balance(workspace_id)
    charged = sum(r["credits_charged"] for r in finals.values())
    assert books.get("spent", 0) == charged and books["wallet_available"] == 1000 - charged and books["wallet_held"] == 0


class CreditMachine(RuleBasedStateMachine):
    """Random interleavings of grant, start (reserve), claim, settle, refund and cancel on one wallet."""

    loop: asyncio.AbstractEventLoop  # the test session's loop (the database pool lives on it)

    def __init__(self) -> None:
        super().__init__()
        self.granted = 0
        self.queued: list = []
        self.running: list = []
        self.run(self._setup())

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def _setup(self) -> None:
        from tests.support.factories import Factory
        from tests.support.state import truncate_all

        await truncate_all()

        factory = Factory()
        owner = await factory.user()
        self.scope = await factory.workspace("machine", owner)

    @rule(amount=st.integers(min_value=1, max_value=50))
    def grant(self, amount: int) -> None:
        from agentledger.billing import ledger

        async def go():
            async with atomic():
                await ledger.grant(self.scope.workspace_id, amount, actor_id=None, memo="machine")

        self.run(go())
        self.granted += amount

    @rule(size=st.integers(min_value=1, max_value=20))
    def start(self, size: int) -> None:
        try:
            run = self.run(_start(self.scope, size))
            self.queued.append(run["id"])
        except PaymentRequired:
            pass

    @precondition(lambda self: self.queued)
    @rule(data=st.data())
    def claim(self, data) -> None:
        run_id = self.queued.pop(data.draw(st.integers(0, len(self.queued) - 1)))
        self.run(_claim(run_id))
        self.running.append(run_id)

    @precondition(lambda self: self.running)
    @rule(data=st.data(), outcome=st.sampled_from([states.COMPLETED, states.PARTIAL, states.FAILED,
                                                   states.TIMED_OUT]), processed=st.integers(0, 25))
    def settle(self, data, outcome: str, processed: int) -> None:
        run_id = self.running.pop(data.draw(st.integers(0, len(self.running) - 1)))

        async def go():
            async with atomic():
                assert await service.finish(run_id, outcome, items_processed=processed) is not None
                assert await service.finish(run_id, outcome, items_processed=processed) is None  # once only

        self.run(go())

    @precondition(lambda self: self.queued or self.running)
    @rule(data=st.data())
    def cancel(self, data) -> None:
        pool = self.queued if self.queued and data.draw(st.booleans()) or not self.running else self.running
        run_id = pool.pop(data.draw(st.integers(0, len(pool) - 1)))

        async def go():
            async with atomic():
                await service.cancel(self.scope, run_id)
                if pool is self.running:  # the runner meets the request at its next step boundary
                    await service.finish(run_id, states.CANCELED, items_processed=1)

        self.run(go())

    @invariant()
    def books_balance(self) -> None:
        books = self.run(assert_books_balance(self.scope.workspace_id))
        assert books["wallet_available"] + books["wallet_held"] + books.get("spent", 0) == self.granted
        assert books["wallet_available"] >= 0



def test_credit_operations_keep_the_books_in_any_order(session_loop):
    CreditMachine.loop = session_loop
    run_state_machine_as_test(CreditMachine, settings=settings(
        max_examples=40, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
