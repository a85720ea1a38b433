"""Retention as people use it: the policy (bounds, partial changes, a preview that saves nothing, the
count it shows), the Retention page and the run page, who may ask for a run back and what an admin's
decision does, the grace period after a restore, and files deleted by their own retention."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from agentledger.platform import storage
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.retention import passes
from agentledger.platform.retention.tasks import restore_run
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in
from tests.test_exports import API, finished_run
from tests.test_retention import children
from tests.test_retention_faults import old_run

POLICY = f"{API}/retention"


async def finished_at(run_id, days_ago: int) -> None:
    async with atomic():
        await fetch("UPDATE executions SET finished_at = {} WHERE id = {}", now() - timedelta(days=days_ago), run_id)


async def test_the_policy_has_its_defaults_bounds_and_a_preview_that_saves_nothing(client, factory):
    team, _, run_id = await finished_run(factory)
    await finished_at(run_id, 200)  # completed 200 days ago: not due under 365 days
    shown = (await client.get(POLICY, headers=team.admin.bearer)).json()
    assert {k: shown[k] for k in ("completed_days", "failed_days", "files_days", "downloads_days",
                                  "restore_grace_days", "auto_approve")} == {
        "completed_days": 365, "failed_days": 90, "files_days": 90, "downloads_days": 30, "restore_grace_days": 7,
        "auto_approve": False}
    assert shown["due"] == 0 and "archived 1 year after they finish" in " ".join(shown["summary"])

    preview = (await client.post(f"{POLICY}/preview", json={"completed_days": 180}, headers=team.admin.bearer)).json()
    assert preview["due"] == 1 and preview["completed_days"] == 180
    assert (await client.get(POLICY, headers=team.admin.bearer)).json()["completed_days"] == 365  # not saved

    for field, value in (("completed_days", 0), ("failed_days", 3651), ("files_days", -1), ("downloads_days", "30"),
                         ("restore_grace_days", 1.5)):
        refused = await client.put(POLICY, json={field: value}, headers=team.admin.bearer)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.json()["field"] == field and refused.json()["error"]
    unknown = await client.put(POLICY, json={"forever": True}, headers=team.admin.bearer)
    assert unknown.status_code == 422

    saved = await client.put(POLICY, json={"completed_days": 180}, headers=team.admin.bearer)
    assert saved.status_code == 200 and saved.json()["due"] == 1
    again = (await client.put(POLICY, json={"auto_approve": True}, headers=team.admin.bearer)).json()
    assert (again["completed_days"], again["failed_days"], again["auto_approve"]) == (180, 90, True)  # partial
    assert (await client.get(POLICY, headers=team.member.bearer)).status_code == 403


async def test_the_retention_page_says_what_happens_previews_and_saves(client, factory):
    team, _, run_id = await finished_run(factory)
    await finished_at(run_id, 200)
    await sign_in(client, team.admin.email, team.admin.password)
    page = await client.get("/w/acme/settings/retention")
    assert page.status_code == 200
    assert "Completed and partial runs are archived 1 year after they finish." in page.text
    assert re.search(r"<strong>0 runs</strong> will be archived by the next pass", page.text)
    form = {"_csrf_token": csrf_from(page.text), "completed_days": "180", "failed_days": "90", "files_days": "90",
            "downloads_days": "30", "restore_grace_days": "7"}
    preview = await client.post("/w/acme/settings/retention/preview", data=form)
    assert preview.status_code == 200
    assert re.search(r"<strong>1 run</strong> would be archived by the next pass \(nothing is saved yet\)", preview.text)
    assert "archived 6 months after they finish" in preview.text
    wrong = await client.post("/w/acme/settings/retention", data={**form, "failed_days": "0"})
    assert wrong.status_code == 422 and 'data-error-field="failed_days"' in wrong.text
    saved = await client.post("/w/acme/settings/retention", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
    after = await client.get(saved.headers["location"])
    assert "The retention policy is saved." in after.text and 'value="180"' in after.text
    assert "restore requests wait for an admin" in after.text  # the auto-approve box was left unticked


async def test_the_run_page_and_the_list_show_an_archived_run_and_its_restore(client, factory):
    team, _, run_id = await old_run(factory)
    assert (await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)).status_code == 200
    await sign_in(client, team.member.email, team.member.password)
    listing = await client.get("/w/acme/executions")
    assert re.search(rf'data-run="{run_id}"[\s\S]*?class="badge archived"[^>]*>archived \d{{4}}-\d\d-\d\d<', listing.text)
    page = await client.get(f"/w/acme/executions/{run_id}")
    assert "data-archived" in page.text and "Ask to restore" in page.text
    assert "No steps yet." not in page.text and "Processing log" not in page.text  # in storage, not "none"
    assert 'action="/w/acme/executions/' + str(run_id) + '/cancel"' not in page.text
    asked = await client.post(f"/w/acme/executions/{run_id}/restore", data={"_csrf_token": csrf_from(page.text)})
    assert asked.status_code == 303
    page = await client.get(f"/w/acme/executions/{run_id}")
    assert "Max Member asked for it back" in page.text and "waiting for an admin" in page.text
    assert "Ask to restore" not in page.text


async def test_members_ask_admins_decide_and_auto_approve_starts_at_once(client, factory):
    team, _, run_id = await old_run(factory)
    await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)
    outsider = await client.post(f"/api/v1/workspaces/globex/executions/{run_id}/restore", headers=team.outsider.bearer)
    assert outsider.status_code == 404
    asked = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)).json()
    assert (await client.post(f"{POLICY}/requests/{asked['id']}/approve", headers=team.member.bearer)).status_code == 403
    rejected = await client.post(f"{POLICY}/requests/{asked['id']}/reject", headers=team.admin.bearer)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await client.post(f"{POLICY}/requests/{asked['id']}/approve", headers=team.admin.bearer)).status_code == 409
    assert await restore_run.run_here(asked["id"]) == "nothing to do"  # a rejected request restores nothing
    assert (await children(run_id))["execution_results"] == 0

    await client.put(POLICY, json={"auto_approve": True}, headers=team.admin.bearer)
    second = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)).json()
    assert second["status"] == "approved" and second["id"] != asked["id"]
    assert await restore_run.run_here(second["id"]) == "done"
    assert (await children(run_id))["execution_results"] == 8
    mine = (await client.get(f"{POLICY}/requests", headers=team.member.bearer)).json()["items"]
    assert {r["status"] for r in mine} == {"rejected", "done"}
    not_archived = await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)
    assert not_archived.status_code == 409



async def test_a_request_that_waits_is_mailed_to_the_admins_who_want_it_once(client, factory, mailbox):
    from agentledger.notifications import repository as notification_choices
    from tests.test_notifications import deliver_all, outbox

    team, _, run_id = await old_run(factory)
    bea = await factory.user("bea@acme.example", "Bea Boss")
    await factory.member("acme", bea, "admin")
    async with atomic():
        await notification_choices.set_category(bea.email, "restore_requested", False)  # Bea said no
    await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)

    async def asked_mail() -> list[dict]:
        return [r for r in await outbox() if r["event"] == "restore_requested"]

    asked = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)).json()
    assert asked["status"] == "pending"
    await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)  # the same open request
    assert [(r["to_email"], r["kind"]) for r in await asked_mail()] == [(team.admin.email, "restore_requested")]
    mails = [m for m in await deliver_all(mailbox) if m["Subject"].startswith("Max Member asked")]
    assert [(m["To"], m["Subject"]) for m in mails] == [
        (team.admin.email, "Max Member asked for an archived run back in Acme")]
    text, html = (mails[0].get_body((kind,)).get_content() for kind in ("plain", "html"))
    assert "test-results in Acme" in text and "/w/acme/settings/retention#requests" in text
    assert "Approve or reject it" in html and f"/w/acme/executions/{run_id}" in html

    # nothing waits, so nobody is asked: an admin's own request, and any under auto-approve
    await client.post(f"{POLICY}/requests/{asked['id']}/reject", headers=team.admin.bearer)
    own = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
    assert own["status"] == "approved" and await restore_run.run_here(own["id"]) == "done"
    await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)
    await client.put(POLICY, json={"auto_approve": True}, headers=team.admin.bearer)
    again = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)).json()
    assert again["status"] == "approved"
    assert len(await asked_mail()) == 1

async def test_a_restored_run_waits_out_its_grace_period_before_it_is_archived_again(client, factory):
    team, workspace_id, run_id = await old_run(factory)
    await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)
    asked = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
    assert await restore_run.run_here(asked["id"]) == "done"
    assert (await passes.run_pass(workspace_id)).archived == {}  # still 400 days old, but just restored
    async with atomic():
        await fetch("UPDATE executions SET restored_at = now() - interval '8 days' WHERE id = {}", run_id)
    assert (await passes.run_pass(workspace_id)).archived == {"acme": 1}


async def test_files_go_after_their_own_retention_and_the_run_says_when(client, factory):
    team, workspace_id, run_id = await finished_run(factory)
    artifact = next(r for r in (await client.get(f"{API}/executions/{run_id}/results?limit=50",
                                                 headers=team.member.bearer)).json()["items"] if r["kind"] == "artifact")
    prefix = storage.workspace_key(workspace_id, "executions", str(run_id), "artifacts")
    listed = storage._client().list_objects_v2(Bucket=storage.bucket(), Prefix=prefix)
    assert listed.get("KeyCount") == 1
    await finished_at(run_id, 100)  # files: 90 days; the run itself (completed): 365
    report = await passes.run_pass(workspace_id)
    assert report.files_removed == {"acme": 1} and report.archived == {}
    listed = storage._client().list_objects_v2(Bucket=storage.bucket(), Prefix=prefix)
    assert listed.get("KeyCount") == 0
    read = (await client.get(f"{API}/executions/{run_id}", headers=team.member.bearer)).json()
    assert read["files_removed_at"] is not None and read["archived_at"] is None
    gone = await client.get(artifact["download_url"], headers=team.member.bearer)
    assert gone.status_code == 410 and "deleted on" in gone.json()["message"] and "retention" in gone.json()["message"]
    assert (await passes.run_pass(workspace_id)).files_removed == {"acme": 0}  # once
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get(f"/w/acme/executions/{run_id}")
    assert "data-file-removed" in page.text and "under the retention policy" in page.text
    assert artifact["download_url"] not in page.text


@pytest.mark.parametrize("days", [89])
async def test_files_younger_than_their_retention_stay(client, factory, days):
    team, workspace_id, run_id = await finished_run(factory)
    await finished_at(run_id, days)
    assert (await passes.run_pass(workspace_id)).files_removed == {"acme": 0}
    assert (await client.get(f"{API}/executions/{run_id}", headers=team.member.bearer)).json()["files_removed_at"] is None


async def test_admins_see_what_a_pass_could_not_do_and_dismiss_it(client, factory):
    from agentledger.platform.retention import repository

    team, workspace_id, _ = await finished_run(factory)
    async with atomic():
        await repository.add_alert(workspace_id, "checksum_mismatch", "the archive p.jsonl.gz read back different", 2)
        await repository.add_alert(workspace_id, "checksum_mismatch", "the same again", 2)  # one a day per kind
    await sign_in(client, team.admin.email, team.admin.password)
    page = await client.get("/w/acme/settings/retention")
    assert page.text.count('data-retention-alert="checksum_mismatch"') == 1
    assert "An archive did not read back as written." in page.text and "read back different" in page.text
    action = re.search(r'action="(/w/acme/settings/retention/alerts/[^"]+/dismiss)"', page.text).group(1)
    gone = await client.post(action, data={"_csrf_token": csrf_from(page.text)})
    assert gone.status_code == 303
    assert "data-retention-alert" not in (await client.get("/w/acme/settings/retention")).text


async def test_a_declined_request_is_mailed_to_whoever_asked_once_naming_the_admin(client, factory, mailbox):
    from tests.test_notifications import deliver_all, outbox

    team, _, run_id = await old_run(factory)
    await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)
    asked = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)).json()
    assert [r["event"] for r in await outbox()] == ["restore_requested"]  # nothing for the asker yet

    rejected = await client.post(f"{POLICY}/requests/{asked['id']}/reject", headers=team.admin.bearer)
    assert rejected.status_code == 200
    again = await client.post(f"{POLICY}/requests/{asked['id']}/reject", headers=team.admin.bearer)
    assert again.status_code == 409  # decided already: no second email either
    declined = [r for r in await outbox() if r["event"] == "run_restored"]
    assert [(r["to_email"], r["kind"]) for r in declined] == [(team.member.email, "run_restored")]

    mails = [m for m in await deliver_all(mailbox) if m["To"] == team.member.email]
    assert [m["Subject"] for m in mails] == ["Your request for a test-results run was declined"]
    text = mails[0].get_body(("plain",)).get_content()
    admin = (await fetch("SELECT name FROM users WHERE id = {}", team.admin.id))[0]["name"]
    assert f"{admin} declined the request" in text and f"/w/acme/executions/{run_id}" in text
    assert "stays archived" in text
    assert (await children(run_id))["execution_results"] == 0  # declined means nothing came back
