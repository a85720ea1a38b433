"""Notifications at scale, in two parts.

1. The weekly digest. 10,000 people in 100 workspaces (two admins each, every tenth person idle) and
   1,000,000 runs over six weeks, with their ledger movements (reserve, charge, release; a grant per
   workspace), the wallets they add up to, and results (scores, applied recommendations), loaded with
   INSERT … SELECT generate_series. Then `digest.run(moment)` at a Monday 09:00 UTC with everyone in UTC,
   twice from the same starting point, in a process of its own: first with a quarter of the people due
   (one rank in four of each workspace; the others are claimed for the week beforehand, as a pass would
   have claimed them), then, after the claims and digest emails are deleted, with all of them. Prints
   seconds and digests per pass (goal: all 10,000 in 60 s or less) and each pass's peak RSS growth
   (VmHWM over the resident size before the first pass) and their ratio (goal: flat, since people are
   read in batches of 500: at most 1.5x for four times the people). People outside this data (other
   benchmarks share the database) are claimed for the week first, so each pass sees only the seeded people.
2. Outbox delivery. Invitations queued through `notifications.emit`, then delivered by
   `sender.deliver(outbox_id)` to a local SMTP server (aiosmtpd on 127.0.0.1 in a process of its own, so
   its parsing shares no interpreter lock with either client; it only counts what it accepts), against
   the very same messages (`sender.build` from the rows, built beforehand) sent raw through smtplib, in the
   same run. Both sides: 8 at once (8 tasks vs 8 threads), a connection per message as the sender opens
   it. Prints emails/s for each and the ratio (goal: 50% or more), best of 2 alternating rounds; a third
   line, without a goal, sends raw but builds each message from its row in the sending thread (what
   building costs).

Run with `./run bench notify`. BENCH_EMAILS (default 2,000) sets emails per round and side, BENCH_PEOPLE
(10,000) and BENCH_DIGEST_RUNS (1,000,000) the digest's data.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import smtplib
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _memory import memory_mb, reset_peak  # noqa: E402
from _notify_data import ADMINS_EACH, PEOPLE, QUIET_EVERY, WEEKS, WORKSPACES, last_monday_nine, load  # noqa: E402

from agentledger.platform.embedded import free_port, wait_for_port  # noqa: E402

EMAILS = int(os.environ.get("BENCH_EMAILS", "2000"))
CONCURRENCY = 8
WARM_UP = 50
GOAL_RATIO = 0.50
GOAL_DIGEST_SECONDS = 60.0
GOAL_MEMORY_RATIO = 1.5


# --- the SMTP server ------------------------------------------------------------------------------------
class Counting:
    """aiosmtpd handler: counts what it accepts, in a counter the benchmark's process reads."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def smtp_server(port: int, counter: Any, stop: Any) -> None:
    """The child process: an aiosmtpd Controller on 127.0.0.1 (as tests/support/smtp.py starts one)."""
    from aiosmtpd.controller import Controller

    controller = Controller(Counting(counter), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        stop.wait()
    finally:
        controller.stop()


# Everyone not due in a pass is claimed for the week first (the claim is what a pass would have written),
# with the time zone the pass reads: their own, else their first workspace's.
CLAIM_OTHERS = """
INSERT INTO digest_weeks (id, "user", week, sent, created_at)
SELECT gen_random_uuid(), u.id, to_char($1::timestamptz AT TIME ZONE COALESCE(p.timezone, (SELECT w.timezone
         FROM memberships m JOIN workspaces w ON w.id = m.workspace WHERE m."user" = u.id
         ORDER BY m.created_at, m.id LIMIT 1), 'UTC'), 'IYYY-"W"IW'), false, now()
FROM users u LEFT JOIN notification_preferences p ON p.email = u.email
WHERE NOT CASE WHEN u.email LIKE $2 THEN (split_part(split_part(u.email, '@', 1), '-', 3)::int / $3::int) % $4::int = 0
               ELSE false END
ON CONFLICT ("user", week) DO NOTHING
"""
MINE = "notify-{tag}-%@example.com"


async def reset(conn) -> None:
    """Forget every claim and digest email of the week, so the next pass starts over."""
    await conn.execute("DELETE FROM email_outbox WHERE kind = 'weekly_digest' AND dedupe_key LIKE 'digest:%'")
    await conn.execute("DELETE FROM digest_weeks")
    await conn.execute("VACUUM ANALYZE digest_weeks")
    await conn.execute("VACUUM ANALYZE email_outbox")


async def digest_passes(tag: str, moment: datetime) -> list[dict[str, float]]:
    """In a process of its own (see ``main``): a quarter of the people due, then all of them; each pass's
    peak resident size (VmHWM, reset before it) over the resident size before the first."""
    import asyncpg

    from agentledger.notifications import digest
    from agentledger.platform.broker import broker
    from agentledger.platform.database import start_pool

    await start_pool()
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    passes = []
    try:
        baseline = memory_mb("VmRSS")
        for every in (4, 1):  # a quarter: the people of every fourth rank in each workspace (admins included)
            due = sum(1 for n in range(PEOPLE) if (n // WORKSPACES) % every == 0)
            await reset(conn)
            await conn.execute(CLAIM_OTHERS, moment, MINE.format(tag=tag), WORKSPACES, every)
            reset_peak()
            started = time.monotonic()
            done = await digest.run(moment)
            seconds = time.monotonic() - started
            peak = memory_mb("VmHWM") - baseline
            broker.flush("email")  # the delivery jobs the pass queued: nobody sends them here
            mine = await conn.fetchval("SELECT count(*) FROM email_outbox WHERE kind = 'weekly_digest' "
                                       "AND to_email LIKE $1", MINE.format(tag=tag))
            if mine != done["digests"] or done["digests"] + done["quiet"] != due:
                raise RuntimeError(f"{due} people due: the pass says {done}, the outbox holds {mine} of their digests")
            passes.append({"due": due, "digests": done["digests"], "quiet": done["quiet"], "seconds": seconds,
                           "rss": peak})
    finally:
        await conn.close()
    return passes


def digest_in_child(tag: str, moment: datetime) -> list[dict[str, float]]:
    """The passes in a fresh process: this one's high-water mark already holds the migrating and loading."""
    out = subprocess.run([sys.executable, __file__], capture_output=True, text=True,
                         env={**os.environ, "BENCH_NOTIFY_DIGEST": f"{tag} {moment.isoformat()}"})
    if out.returncode:
        raise RuntimeError(f"the digest passes failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the outbox -----------------------------------------------------------------------------------------
async def queue_invitations(count: int) -> tuple[list[uuid.UUID], float]:
    """``count`` invitations through the notifications domain (the event workspaces.invite emits), 100 per
    transaction; answers the outbox ids and the seconds it took."""
    from agentledger.notifications import service
    from agentledger.platform import accounts, workspaces
    from agentledger.platform.broker import broker
    from agentledger.platform.database import atomic

    tag = uuid.uuid4().hex[:6]
    async with atomic():
        owner = await accounts.create_user(f"notify-owner-{tag}@example.com", "Olga Owner", "bench password 123")
        info = await workspaces.create_workspace(f"notify-{tag}", "Notify bench", owner.id)
    expires = datetime.now(UTC) + timedelta(days=3)
    ids: list[uuid.UUID] = []
    started = time.monotonic()
    for first in range(0, count, 100):
        async with atomic():
            for n in range(first, min(first + 100, count)):
                invitation = uuid.uuid4()
                ids += await service.emit("invited", info.id, invitation_id=invitation,
                                          email=f"invitee-{tag}-{n}@example.com", role="member",
                                          link=f"https://ledger.example.com/invitations/{invitation.hex}",
                                          expires_at=expires)
    seconds = time.monotonic() - started
    broker.flush("email")  # their delivery jobs (no worker runs here): this benchmark delivers them itself
    if len(ids) != count:
        raise RuntimeError(f"{count} invitations queued {len(ids)} emails")
    return ids, seconds


def raw_send(port: int, message: Any) -> None:
    """What the sender does on the wire, plainly: a connection per message, EHLO, the message, QUIT."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.send_message(message)


def raw_rate(port: int, items: list[Any], counter: Any, build: Any = None) -> float:
    """``items`` sent by CONCURRENCY threads; with ``build``, each is a row built into its message first."""
    before = counter.value
    send = (lambda item: raw_send(port, build(item))) if build else (lambda item: raw_send(port, item))
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(send, items))
    rate = len(items) / (time.perf_counter() - started)
    if counter.value - before != len(items):
        raise RuntimeError(f"raw smtplib: sent {len(items)}, the server took {counter.value - before}")
    return rate


async def ours_rate(ids: list[uuid.UUID], counter: Any) -> float:
    """``ids`` delivered by CONCURRENCY tasks, each calling sender.deliver for the next waiting row."""
    from agentledger.notifications import sender

    before, waiting, outcomes = counter.value, list(ids), []

    async def deliverer() -> None:
        while waiting:
            outcomes.append(await sender.deliver(waiting.pop()))

    started = time.perf_counter()
    await asyncio.gather(*(deliverer() for _ in range(CONCURRENCY)))
    rate = len(ids) / (time.perf_counter() - started)
    if sum(o.sent for o in outcomes) != len(ids) or counter.value - before != len(ids):
        raise RuntimeError(f"sender.deliver: {sum(o.sent for o in outcomes)} of {len(ids)} sent, "
                           f"the server took {counter.value - before}")
    return rate


async def outbox_rounds(port: int, counter: Any) -> dict[str, Any]:
    from functools import partial

    from agentledger.notifications import sender
    from agentledger.platform.config import get_settings
    from agentledger.platform.database import fetch

    ids, queue_seconds = await queue_invitations(WARM_UP + 2 * EMAILS)
    rows = await fetch("SELECT id, to_email, subject, body_text, body_html, headers, attempts FROM email_outbox "
                       "WHERE id = ANY({})", ids)
    by_id = {r["id"]: r for r in rows}
    sample = [by_id[i] for i in ids[:EMAILS]]
    build = partial(sender.build, get_settings())
    messages = [build(row) for row in sample]  # the very messages the sender puts on the wire for these rows
    size = sum(len(m.as_bytes()) for m in messages) // len(messages)
    await asyncio.to_thread(raw_rate, port, messages[:WARM_UP], counter)  # warm-up, every path
    await asyncio.to_thread(raw_rate, port, sample[:WARM_UP], counter, build)
    await ours_rate(ids[:WARM_UP], counter)
    found: dict[str, Any] = {"raw": [], "built": [], "ours": []}
    for n in range(2):  # alternate, so machine noise hits every side alike
        found["raw"].append(await asyncio.to_thread(raw_rate, port, messages, counter))
        found["built"].append(await asyncio.to_thread(raw_rate, port, sample, counter, build))
        found["ours"].append(await ours_rate(ids[WARM_UP + n * EMAILS: WARM_UP + (n + 1) * EMAILS], counter))
    unsent = await fetch("SELECT count(*) AS n FROM email_outbox WHERE id = ANY({}) AND sent_at IS NULL", ids)
    if unsent[0]["n"]:
        raise RuntimeError(f"{unsent[0]['n']} queued emails are not marked sent")
    found.update(queued=len(ids) / queue_seconds, size=size, received=counter.value)
    return found


# --- the run --------------------------------------------------------------------------------------------
async def prepare() -> tuple[str, datetime, dict[str, Any]]:
    import asyncpg

    from agentledger.platform.migrate import migrate

    await migrate()
    tag = uuid.uuid4().hex[:6]
    moment = last_monday_nine()
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        facts: dict[str, Any] = {"timings": await load(conn, tag, moment)}
        for table in ("executions", "ledger_transfers", "execution_results"):
            facts[table] = await conn.fetchval(
                f"SELECT count(*) FROM {table} x JOIN bench_spaces s ON s.id = x.workspace")
        week_end = moment.replace(hour=0)
        facts["in_week"] = await conn.fetchval(
            "SELECT count(*) FROM executions e JOIN bench_spaces s ON s.id = e.workspace WHERE e.mode = 'live' "
            "AND e.queued_at >= $1 AND e.queued_at < $2", week_end - timedelta(days=7), week_end)
    finally:
        await conn.close()
    return tag, moment, facts


def print_digest(moment: datetime, facts: dict[str, Any], passes: list[dict[str, float]]) -> None:
    timings = facts["timings"]
    print(f"digest data: {PEOPLE:,} people in {WORKSPACES} workspaces ({WORKSPACES * ADMINS_EACH} admins, every "
          f"{QUIET_EVERY}th person idle), {facts['executions']:,} runs over {WEEKS} weeks ({facts['in_week']:,} live "
          f"ones in the digest's week), {facts['ledger_transfers']:,} ledger movements, "
          f"{facts['execution_results']:,} results; INSERT … SELECT generate_series in {timings.pop('load in all'):.0f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")
    week_end = moment.replace(hour=0)
    print(f"digest.run at {moment:%a %d %b %Y %H:%M} UTC, everyone in UTC (the week of {week_end - timedelta(days=7):%a %d %b}"
          f" – {week_end - timedelta(days=1):%a %d %b}, claimed as {moment:%G-W%V}), batches of 500, in a process of "
          "its own; peak RSS growth: VmHWM over the RSS before the first pass")
    head = f"{'people due':>10} | {'digests':>7} {'quiet':>5} | {'seconds':>7} {'people/s':>8} | {'peak RSS growth':>15}"
    print(head)
    print("-" * len(head))
    for p in passes:
        print(f"{p['due']:>10,} | {p['digests']:>7,} {p['quiet']:>5,} | {p['seconds']:>7.1f} "
              f"{p['due'] / p['seconds']:>8.0f} | {p['rss']:>12.1f} MB")
    small, full = passes
    memory = full["rss"] / small["rss"] if small["rss"] > 0 else float("inf")
    time_ok, memory_ok = full["seconds"] <= GOAL_DIGEST_SECONDS, memory <= GOAL_MEMORY_RATIO
    print(f"{full['due']:,} people in {full['seconds']:.1f} s (goal <= {GOAL_DIGEST_SECONDS:.0f} s): "
          f"{'GOAL MET' if time_ok else 'goal missed'}; peak memory, {full['due']:,} vs {small['due']:,} people: "
          f"{memory:.2f}x (goal: flat, <= {GOAL_MEMORY_RATIO}x): {'GOAL MET' if memory_ok else 'goal missed'}",
          flush=True)


def print_outbox(found: dict[str, Any]) -> None:
    best = {side: max(rates) for side, rates in found.items() if side in ("raw", "built", "ours")}
    ratio = best["ours"] / best["raw"]
    print(f"outbox delivery to aiosmtpd on 127.0.0.1 (own process): {EMAILS:,} invitation emails per round and side "
          f"(about {found['size'] / 1024:.0f} KB each), {CONCURRENCY} at once, a connection per message, best of 2 "
          "alternating rounds")
    print(f"raw smtplib, same messages            {best['raw']:7.0f} emails/s  "
          f"({', '.join(f'{r:.0f}' for r in found['raw'])})")
    print(f"agentledger sender.deliver            {best['ours']:7.0f} emails/s  "
          f"({', '.join(f'{r:.0f}' for r in found['ours'])})")
    print(f"ratio ours/raw                        {ratio:7.1%}  (goal >= {GOAL_RATIO:.0%}: "
          f"{'GOAL MET' if ratio >= GOAL_RATIO else 'goal missed'})")
    print(f"raw smtplib + sender.build per send   {best['built']:7.0f} emails/s  "
          f"({', '.join(f'{r:.0f}' for r in found['built'])}; no goal: what building the message costs)")
    print(f"queued through notifications.emit, 100 per transaction: {found['queued']:.0f} emails/s; the server "
          f"accepted {found['received']:,} messages in all")


async def outbox_part(port: int, counter: Any) -> dict[str, Any]:
    from agentledger.platform.database import start_pool

    await start_pool(max_size=CONCURRENCY + 2)
    return await outbox_rounds(port, counter)


def main() -> int:
    if "BENCH_NOTIFY_DIGEST" in os.environ:  # the digest passes' own process (digest_in_child)
        tag, moment = os.environ["BENCH_NOTIFY_DIGEST"].split()
        print(json.dumps(asyncio.run(digest_passes(tag, datetime.fromisoformat(moment)))))
        return 0
    tag, moment, facts = asyncio.run(prepare())
    passes = digest_in_child(tag, moment)
    print_digest(moment, facts, passes)

    context = multiprocessing.get_context("spawn")
    counter, stop, port = context.Value("q", 0), context.Event(), free_port()
    server = context.Process(target=smtp_server, args=(port, counter, stop), daemon=True)
    server.start()
    try:
        wait_for_port(port, timeout=30)
        os.environ.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"})
        for name in ("SMTP_USERNAME", "SMTP_PASSWORD"):
            os.environ.pop(name, None)
        from agentledger.platform.config import get_settings

        get_settings.cache_clear()  # the sender reads its SMTP settings from here
        print_outbox(asyncio.run(outbox_part(port, counter)))
    finally:
        stop.set()
        server.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
