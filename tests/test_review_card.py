"""A review's decision and comment are part of the run's record: a card on the run page (for whoever
may see the run) and a part of the PDF, the CSV and the JSON downloads; read through the caller's scope."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import httpx
import pytest
from pypdf import PdfReader

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.errors import NotFound
from agentledger.platform.executions import reviews
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in

API = "/api/v1/workspaces/acme"


async def reviewed_run(client, factory, decision="approve", comment="Ship it, the copy reads well."):
    team = await factory.team()
    await factory.credits("acme", 100)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-review", {}))
    await runner.run_execution(run["id"])
    await sign_in(client, team.member.email, team.member.password)
    page = f"/w/acme/executions/{run['id']}"
    token = csrf_from((await client.get(page)).text)
    answer = await client.post(f"{page}/review", data={"decision": decision, "comment": comment, "_csrf_token": token})
    assert answer.status_code == 303
    await runner.run_execution(run["id"])  # the run goes on (or completes) after the decision
    return team, run["id"], page


def card(html: str) -> str:
    region = re.search(r'<div data-region="review">(.*?)</div>\s*<div data-region="results">', html, re.S)
    assert region, "the review region is on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", region.group(1)).split())


async def test_the_decision_and_comment_are_a_card_on_the_run_page(client, factory):
    team, run_id, page = await reviewed_run(client, factory)
    shown = card((await client.get(page)).text)
    assert "Review: Check the copy" in shown and "✓ approved" in shown
    assert "Approved by Max Member" in shown and "Ship it, the copy reads well." in shown
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", shown)  # when
    await sign_in(client, team.admin.email, team.admin.password)  # an admin sees the same card
    assert "Approved by Max Member" in card((await client.get(page)).text)


async def test_a_rejection_without_a_comment_says_so(client, factory):
    team, run_id, page = await reviewed_run(client, factory, "reject", "")
    shown = card((await client.get(page)).text)
    assert "✕ rejected" in shown and "Rejected by Max Member" in shown and "No comment." in shown


async def test_the_review_is_in_the_json_csv_and_pdf_downloads(client, factory):
    team, run_id, page = await reviewed_run(client, factory)
    await factory.token("acme", team.member)

    async def export(fmt):
        return await client.get(f"{API}/executions/{run_id}/export", params={"format": fmt}, headers=team.member.bearer)

    doc = (await export("json")).json()
    [review] = doc["reviews"]
    assert (review["title"], review["status"], review["comment"], review["decided_by"]) == (
        "Check the copy", "approved", "Ship it, the copy reads well.", "Max Member")
    assert review["decided_by_id"] == str(team.member.id) and review["decided_at"] and review["step"] == 2
    archive = zipfile.ZipFile(io.BytesIO((await export("csv")).content))
    rows = list(csv.reader(io.StringIO(archive.read("reviews.csv").decode("utf-8-sig"))))
    assert rows[0] == ["step", "review", "decision", "comment", "decided_by", "decided_at"]
    assert rows[1][:5] == ["2", "Check the copy", "approved", "Ship it, the copy reads well.", "Max Member"]
    assert rows[1][5].startswith(review["decided_at"][:16])
    pdf = await export("pdf")
    assert pdf.status_code == 303, pdf.text
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(
        httpx.get(pdf.headers["location"]).content)).pages).split())
    assert "Review: Check the copy" in text and "Approved by Max Member" in text
    assert "Ship it, the copy reads well." in text


async def test_the_review_is_read_in_the_callers_scope(client, factory):
    team, run_id, page = await reviewed_run(client, factory)
    [mine] = await reviews.decisions(await resolve_scope("acme", team.member.id), run_id)
    assert mine["status"] == "approved"
    with pytest.raises(NotFound):  # another workspace does not see it
        await reviews.decisions(await resolve_scope("globex", team.outsider.id), run_id)
    someone = await factory.user()
    with pytest.raises(NotFound):  # nor a member the run was not shared with
        await reviews.decisions(await factory.member("acme", someone), run_id)
