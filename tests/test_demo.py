"""`./run demo` end to end: embedded PostgreSQL and Redis, seed, web + worker + scheduler, the printed
logins and tokens work, Ctrl-C stops everything, and a second run reuses the data without re-seeding."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest

from agentledger.platform.embedded import free_port
from tests.support.factories import csrf_from
from tests.support.processes import ROOT, cli

pytestmark = pytest.mark.pure  # no database, no Redis of the tests: the clean fixture empties nothing

SERVICE_SETTINGS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BASE_URL", "TEST_ADMIN_DATABASE_URL",
                    "S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
                    "STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "SMTP_HOST", "SMTP_PORT",
                    "SMTP_STARTTLS", "SMTP_USERNAME", "SMTP_PASSWORD"}


def demo_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_SETTINGS}
    # the shop's port from the kernel too: "port + 1" may be a client socket of a neighbouring test (seen in CI)
    env.update({"AGENTLEDGER_DATA_DIR": str(data_dir), "PORT": str(port), "DEMO_SITE_PORT": str(free_port()),
                "DEVSTRIPE_PORT": str(free_port()), "SMTP_CATCHER_PORT": str(free_port())})
    return env


def start_demo(data_dir: Path, port: int, *, own_group: bool = False) -> subprocess.Popen:
    """``own_group``: in a process group of its own, as a terminal or a service manager starts it."""
    def as_background_job() -> None:
        # started as a shell starts a background job (SIGINT ignored): Ctrl-C must still stop it cleanly
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if own_group:
            os.setpgid(0, 0)

    return subprocess.Popen(cli("dev", "demo"), cwd=ROOT, env=demo_env(data_dir, port), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=as_background_job)


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """``./run cli …`` from another shell: nothing in its environment says where the services are."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_SETTINGS}
    return subprocess.run([str(ROOT / "run"), "cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "AGENTLEDGER_DATA_DIR": str(data_dir)}, timeout=120)


def wait_until_serving(process: subprocess.Popen, timeout: float = 120) -> str:
    output = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if "Ctrl-C stops everything" in line:
            # keep reading what the processes log, or a full pipe would block them (and their shutdown)
            later = LATER.setdefault(process.pid, [])
            threading.Thread(target=lambda sink=later: sink.extend(process.stdout), daemon=True).start()
            return "".join(output)
    raise AssertionError("demo did not start:\n" + "".join(output))


LATER: dict[int, list[str]] = {}  # what each demo printed after its banner


def stop_with_ctrl_c(process: subprocess.Popen, data_dir: Path | None = None) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(90)
    except subprocess.TimeoutExpired:
        still = processes_using(data_dir) if data_dir else []
        process.kill()
        raise AssertionError("the demo did not stop within 90 s; still running:\n" + "\n".join(still)
                             + "\nlast output:\n" + "".join(LATER.get(process.pid, [])[-40:])) from None
    assert process.returncode == 0


def processes_using(data_dir: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="ignore")
            except OSError:
                continue
            if str(data_dir) in cmdline and "pytest" not in cmdline:
                found.append(cmdline)
    return found


def wait_for_run(run_url: str, headers: dict) -> dict:
    for _ in range(300):
        run = httpx.get(run_url, headers=headers).json()
        if run["finished_at"]:
            return run
        time.sleep(0.1)
    raise AssertionError(f"{run_url} did not finish: {run['status']}")


def check_agents_on_the_demo_shop(api: str, shop: str, bob: dict) -> None:
    """The demo shop runs beside the demo, and the workspace is connected to it: agents find its planted
    problems, and an approved fix applied through the connector shows on the shop."""
    assert httpx.get(f"{shop}/").status_code == 200
    started = {agent: httpx.post(f"{api}/executions", headers=bob, json={"agent": agent, "inputs": inputs}).json()
               for agent, inputs in (("seo-audit", {"start_url": f"{shop}/"}), ("link-checker", {"start_url": shop}),
                                     ("analytics-report", {"csv_url": f"{shop}/feeds/analytics.csv"}))}
    runs = {agent: wait_for_run(f"{api}/executions/{run['id']}", bob) for agent, run in started.items()}
    assert {a: r["status"] for a, r in runs.items()} == {
        "seo-audit": "partial", "link-checker": "partial", "analytics-report": "completed"}
    recs = httpx.get(f"{api}/executions/{runs['seo-audit']['id']}/results",
                     params={"kind": "recommendation", "limit": 250}, headers=bob).json()["items"]
    about = next(r for r in recs if r["check"] == "missing_title" and r["target"].endswith("/about"))
    assert httpx.post(f"{api}/results/{about['id']}/approve", headers=bob).json()["status"] == "approved"
    applied = httpx.post(f"{api}/executions/{runs['seo-audit']['id']}/apply", headers=bob,
                         json={"result_ids": [about["id"]]}).json()
    assert applied["applied"] == 1, applied
    assert f"<title>{about['after']}</title>" in httpx.get(f"{shop}/about").text


def buy_on_devstripe(api: str, admin: dict[str, str], stripe: dict[str, str], available: int) -> None:
    """The demo sells credits through devstripe: a team pack, paid on its hosted page, arrives by webhook."""
    started = httpx.post(f"{api}/billing/checkout", headers=admin, json={"pack": "team"})
    assert started.status_code == 201, started.text
    assert started.json()["url"].startswith(stripe["api_base"]) and stripe["webhook_secret"].startswith("whsec_")
    assert httpx.post(started.json()["url"], data={"action": "pay"}).status_code == 303
    for _ in range(100):
        if httpx.get(f"{api}/wallet", headers=admin).json()["available"] == available + 5000:
            return
        time.sleep(0.1)
    raise AssertionError("the purchase's credits never arrived")


def receipt_delivered(api: str, admin: dict[str, str], smtp: dict) -> None:
    """The demo's mail is really delivered: the purchase's receipt shows as sent on the Emails page's API,
    and the demo's SMTP catcher kept it as a file."""
    for _ in range(150):
        sent = httpx.get(f"{api}/emails", headers=admin, params={"category": "purchase_receipt", "status": "sent"})
        assert sent.status_code == 200, sent.text
        if sent.json()["items"]:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the purchase receipt was never sent")
    assert sent.json()["items"][0]["subject"] == "5000 credits added to Acme"
    kept = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in Path(smtp["folder"]).glob("*.eml")]
    assert "5000 credits added to Acme" in [m["Subject"] for m in kept]


def test_demo_serves_works_stops_and_restarts_without_reseeding(tmp_path):
    data_dir = tmp_path / "demo-data"
    port = free_port()
    demo = start_demo(data_dir, port)
    try:
        banner = wait_until_serving(demo)
        saved = json.loads((data_dir / "demo.json").read_text())
        assert saved["url"] == f"http://127.0.0.1:{port}"
        assert {(u["workspace"], u["role"]) for u in saved["users"]} == {("acme", "admin"), ("acme", "member"),
                                                                         ("globex", "admin")}
        for user in saved["users"]:
            assert user["email"] in banner and user["password"] in banner and user["token"] in banner
            me = httpx.get(f"{saved['url']}/api/v1/me", headers={"Authorization": f"Bearer {user['token']}"})
            assert me.status_code == 200 and me.json()["workspaces"][0]["slug"] == user["workspace"]
        with httpx.Client(base_url=saved["url"]) as browser:
            login = browser.get("/login")
            assert login.status_code == 200 and "Sign in to agentledger" in login.text
            alice = saved["users"][0]
            signed_in = browser.post("/login", data={"email": alice["email"], "password": alice["password"],
                                                     "next": "/", "_csrf_token": csrf_from(login.text)})
            assert signed_in.status_code == 303
            assert browser.get("/w/acme/executions").status_code == 200
            assert httpx.get(f"{saved['url']}/readyz").json()["status"] == "ok"
        # a member starts url-check from the API and watches it finish with the right credits
        bob, alice = saved["users"][1], saved["users"][0]
        api = f"{saved['url']}/api/v1/workspaces/acme"
        as_alice = {"Authorization": f"Bearer {alice['token']}"}
        before = httpx.get(f"{api}/wallet", headers=as_alice).json()["available"]
        assert before > 10_000  # the seeded grant, plus what the year of history left
        started = httpx.post(f"{api}/executions", headers={"Authorization": f"Bearer {bob['token']}"},
                             json={"agent": "url-check", "inputs": {"urls": [f"{saved['url']}/healthz",
                                                                               f"{saved['url']}/no-such-page"]}})
        assert started.status_code == 202 and started.json()["credits_reserved"] == 3
        run_url = f"{api}/executions/{started.json()['id']}"
        for _ in range(100):
            run = httpx.get(run_url, headers={"Authorization": f"Bearer {bob['token']}"}).json()
            if run["finished_at"]:
                break
            time.sleep(0.1)
        assert run["status"] == "partial" and (run["credits_charged"], run["credits_refunded"]) == (2, 1)
        wallet = httpx.get(f"{api}/wallet", headers=as_alice).json()
        assert wallet == {"available": before - 2, "held": 0, "owed": 0}
        buy_on_devstripe(api, as_alice, saved["stripe"], before - 2)
        receipt_delivered(api, as_alice, saved["smtp"])
        # the admin commands reach this demo's services from another shell
        assert (data_dir / "services.env").stat().st_mode & 0o777 == 0o600  # it holds the secret key
        granted = run_cli(data_dir, "grant-credits", "--workspace", "acme", "--credits", "500", "--reason", "pilot")
        assert granted.returncode == 0, granted.stderr
        assert f"granted 500 credits to acme: {before - 2 + 5000 + 500} available, 0 held" in granted.stdout
        newest = httpx.get(f"{api}/ledger", headers={"Authorization": f"Bearer {alice['token']}"}).json()["items"][0]
        assert (newest["amount"], newest["memo"], newest["debit"]) == (500, "pilot", "external")
        check_agents_on_the_demo_shop(api, saved["demo_site"], {"Authorization": f"Bearer {bob['token']}"})
    finally:
        stop_with_ctrl_c(demo, data_dir)
    time.sleep(0.5)
    assert processes_using(data_dir) == [], "something outlived Ctrl-C"
    assert not (data_dir / "services.env").exists()  # the next start has other ports
    stale = run_cli(data_dir, "grant-credits", "--workspace", "acme", "--credits", "5", "--reason", "x")
    assert stale.returncode != 0 and "start ./run demo first" in stale.stderr

    again = start_demo(data_dir, port)
    try:
        wait_until_serving(again)
        resaved = json.loads((data_dir / "demo.json").read_text())
        assert resaved["users"] == saved["users"]  # same people, passwords and tokens: no second seed
        assert "<title>About | Northwind Outfitters</title>" in httpx.get(f"{resaved['demo_site']}/about").text
        token = saved["users"][1]["token"]
        members = httpx.get(f"{saved['url']}/api/v1/workspaces/acme/members",
                            headers={"Authorization": f"Bearer {token}"}).json()["items"]
        assert len(members) == 4  # Alice and Bob, and the two members behind the seeded history
        runs = httpx.get(f"{saved['url']}/api/v1/workspaces/acme/executions?limit=250",
                         headers={"Authorization": f"Bearer {saved['users'][0]['token']}"}).json()["items"]
        assert len(runs) == 250  # the year of history is there, once
    finally:
        stop_with_ctrl_c(again, data_dir)


def _processes() -> dict[int, tuple[int, int, str, str]]:
    """Every process: pid -> (parent, process group, state, command line)."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="ignore")
        except (OSError, ValueError):
            continue
        if proc.name.isdigit():
            state, parent, group = stat.rsplit(")", 1)[1].split()[:3]
            found[int(proc.name)] = (int(parent), int(group), state, cmdline)
    return found


def in_group(pgid: int) -> list[str]:
    """The live processes of process group ``pgid`` (a zombie has exited, it is only not yet reaped)."""
    return [f"{pid} {cmd}" for pid, (_, group, state, cmd) in _processes().items() if group == pgid and state != "Z"]


def family(pid: int) -> dict[int, str]:
    """``pid``'s live descendants (children, their children, …): pid -> command line."""
    table, found, todo = _processes(), {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _, state, cmd) in table.items():
            if ppid == parent and state != "Z":
                found[child] = cmd
                todo.append(child)
    return found


def still_running(processes: dict[int, str]) -> list[str]:
    table = _processes()
    return [f"{pid} {cmd}" for pid, cmd in processes.items()
            if pid in table and table[pid][2] != "Z" and table[pid][3] == cmd]


def test_sigterm_to_the_demo_process_group_stops_everything(tmp_path):
    """``kill -TERM -<pgid>`` (a service manager stopping it, or a script) reaches the whole group at once:
    web, worker, scheduler, shop and the embedded servers all stop, nothing is left behind, and the worker
    does not outlive Redis, retrying it forever."""
    data_dir = tmp_path / "demo-data"
    demo = start_demo(data_dir, free_port(), own_group=True)
    pgid = os.getpgid(demo.pid)
    try:
        wait_until_serving(demo)
        redis_pid = int((data_dir / "redis" / "redis.pid").read_text())
        children = family(demo.pid)
        assert redis_pid in children and sum("dramatiq" in cmd for cmd in children.values()) == 2, children
        assert {"web", "scheduler", "demo-site"} <= {word for cmd in children.values() for word in cmd.split()}
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (demo.poll() is None or in_group(pgid) or still_running(children)):
            time.sleep(0.2)
        left = in_group(pgid) + still_running(children)
        assert left == [], "still running 20 s after SIGTERM:\n" + "\n".join(left)
        assert demo.returncode == 0
        assert not (data_dir / "redis" / "redis.pid").exists() and not (data_dir / "services.env").exists()
        time.sleep(0.5)
        assert processes_using(data_dir) == [], "something outlived SIGTERM"  # PostgreSQL included
        said = "".join(LATER.get(demo.pid, []))
        assert "stopping the embedded services" in said
        assert "connection error" not in said, "the worker retried a Redis that had gone:\n" + said[-3000:]
    finally:
        if demo.poll() is None:  # stop it as a person would, so its PostgreSQL stops too
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(60)
            except subprocess.TimeoutExpired:
                demo.kill()


def test_a_redis_pid_file_whose_process_is_gone_does_not_stop_the_next_start(tmp_path):
    """After a reboot the pid in the file names no process: the start goes on and drops the file."""
    from agentledger.platform.embedded import EmbeddedServices

    pid_file = tmp_path / "redis.pid"
    pid_file.write_text("4194303")  # above any pid Linux hands out by default
    EmbeddedServices._stop_leftover(pid_file)
    assert not pid_file.exists()
