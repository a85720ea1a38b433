"""Downloads of a run: JSON is the whole record, CSV is its tables (a zip when there are several), PDF is a
designed report stored in S3 behind an expiring link. Large runs stream in bounded memory."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import tracemalloc
import zipfile
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pypdf import PdfReader

from agentledger.agents import launch, runner
from agentledger.platform import storage
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import service
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers the test agents

API = "/api/v1/workspaces/acme"
SITE = "http://shop.example"


async def start(team, agent="test-results", inputs=None, scope=None, person="member"):
    async with atomic():
        run = await launch.start(await resolve_scope("acme", getattr(team, person).id),
                                 launch.Request(agent, {"site": SITE} if inputs is None else inputs, scope))
    return run["id"]


async def finished_run(factory, agent="test-results", inputs=None, scope=None):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 1000)
    run_id = await start(team, agent, inputs, scope)
    await runner.run_execution(run_id)
    return team, workspace_id, run_id


async def export(client, person, run_id, fmt, ws="acme"):
    return await client.get(f"/api/v1/workspaces/{ws}/executions/{run_id}/export", params={"format": fmt},
                            headers=person.bearer)


def attachment(response) -> str:
    match = re.fullmatch(r'attachment; filename="([^"]+)"', response.headers["content-disposition"])
    assert match, response.headers["content-disposition"]
    return match.group(1)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the byte-order mark
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_json_is_the_whole_record(client, factory):
    team, _, run_id = await finished_run(factory)
    response = await export(client, team.member, run_id, "json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert attachment(response) == f"test-results-{run_id.hex[:8]}.json"
    doc = response.json()
    record = (await client.get(f"{API}/executions/{run_id}", headers=team.member.bearer)).json()
    assert {k: v for k, v in doc.items() if k not in ("results", "reviews")} == record  # the run as the API has it
    assert doc["reviews"] == []  # this agent asks nobody
    assert doc["inputs"]["site"] == SITE and doc["version"]["sha256"] and doc["status"] == "completed"
    assert [s["name"] for s in doc["steps"]] == ["find"] and doc["log"] == []  # this agent logs nothing
    assert [(i["key"], i["status"]) for i in doc["items"]] == [("site", "done")]
    listed = (await client.get(f"{API}/executions/{run_id}/results", headers=team.member.bearer)).json()["items"]
    assert doc["results"] == listed
    assert [r["kind"] for r in doc["results"]] == ["recommendation", "recommendation", "report", "score", "content",
                                                  "action_item", "extracted", "artifact"]
    rec, _, report, score, content, action, extracted, artifact = doc["results"]
    assert rec["after"] == "About Northwind Outfitters" and rec["reason"] == "The page has no title."
    assert report["sections"][0]["tables"][0]["rows"] == [["/", 200]]
    assert (score["value"], score["scale"]) == (72, 100) and content["text"] == "A sturdy pack."
    assert action["detail"] == "It points to /gone." and extracted["data"] == {"count": 1}
    download = await client.get(artifact["download_url"], headers=team.member.bearer)
    assert download.content == b"page,status\n/,200\n"


async def test_csv_is_one_file_or_a_zip_of_the_run_s_tables(client, factory):
    team, _, run_id = await finished_run(factory)
    response = await export(client, team.member, run_id, "csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert attachment(response) == f"test-results-{run_id.hex[:8]}.zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["recommendations.csv", "items.csv", "report-1-pages.csv", "action-items.csv",
                                  "content.csv", "scores.csv"]
    recs = csv_rows(archive.read("recommendations.csv"))
    assert recs == [["target", "field", "before", "after", "reason", "priority", "status", "check"],
                    [f"{SITE}/about", "title", "", "About Northwind Outfitters", "The page has no title.", "high",
                     "open", ""],
                    [f"{SITE}/contact", "meta_description", "", "Write to us.", "Missing meta description.", "low",
                     "open", ""]]
    assert csv_rows(archive.read("items.csv")) == [["key", "status", "reason"], ["site", "done", ""]]
    assert csv_rows(archive.read("report-1-pages.csv")) == [["page", "status"], ["/", "200"]]
    assert csv_rows(archive.read("action-items.csv"))[1][:4] == ["Fix the broken link on /about", "", "medium",
                                                                 "false"]
    assert csv_rows(archive.read("scores.csv")) == [["name", "value", "scale", "unit", "explanation"],
                                                   ["SEO score", "72", "100", "", "72 of 100 checks pass."]]

    noop_id = await start(team, "noop", {}, 3, person="admin")  # only items: one table, no zip
    await runner.run_execution(noop_id)
    single = await client.get(f"{API}/executions/{noop_id}/export?format=csv", headers=team.admin.bearer)
    assert single.headers["content-type"] == "text/csv; charset=utf-8"  # once, not "…; charset=utf-8; charset=utf-8"
    assert attachment(single) == f"noop-{noop_id.hex[:8]}.csv"
    assert csv_rows(single.content) == [["key", "status", "reason"], ["1", "done", ""], ["2", "done", ""],
                                        ["3", "done", ""]]


async def test_csv_cells_never_run_as_spreadsheet_formulas(client, factory):
    team, _, run_id = await finished_run(factory)
    await fetch("UPDATE execution_results SET body = body || jsonb_build_object('after', {}::text) "
                "WHERE execution = {} AND kind = 'recommendation'", '=HYPERLINK("http://x")', run_id)
    archive = zipfile.ZipFile(io.BytesIO((await export(client, team.member, run_id, "csv")).content))
    assert csv_rows(archive.read("recommendations.csv"))[1][3] == "'=HYPERLINK(\"http://x\")"


async def test_a_run_without_tables_has_no_csv_but_still_a_json(client, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    run_id = await start(team)
    async with atomic():
        await service.cancel(await resolve_scope("acme", team.member.id), run_id)  # canceled before it ran
    refused = await export(client, team.member, run_id, "csv")
    assert refused.status_code == 409 and "JSON" in refused.json()["message"]
    assert (await export(client, team.member, run_id, "json")).json()["results"] == []


async def test_other_workspaces_and_bad_formats_are_refused(client, factory):
    team, _, run_id = await finished_run(factory)
    for fmt in ("json", "csv", "pdf"):
        assert (await export(client, team.outsider, run_id, fmt, ws="globex")).status_code == 404
        assert (await export(client, team.outsider, run_id, fmt)).status_code == 404
    assert (await export(client, team.admin, run_id, "json")).status_code == 200  # admins see every run
    bad = await export(client, team.member, run_id, "xml")
    assert bad.status_code == 422 and bad.json()["field"] == "format"
    missing = await client.get(f"{API}/executions/{run_id}/export", headers=team.member.bearer)
    assert missing.status_code == 422 and missing.json()["field"] == "format", missing.text


async def asgi_get(app, path: str, query: str, headers: dict[str, str], sink) -> dict:
    """One request straight through the app's ASGI interface, so every body message is seen as it is sent
    (httpx's ASGI transport joins them)."""
    done = asyncio.Event()
    received = False
    start: dict = {}

    async def receive() -> dict:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            if message.get("body"):
                sink(message["body"])
            if not message.get("more_body"):
                done.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8000")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
    await app(scope, receive, send)
    return start


async def test_ten_thousand_recommendations_stream_in_bounded_memory(app, factory, tmp_path):
    team, workspace_id, run_id = await finished_run(factory)
    await fetch(
        "INSERT INTO execution_results (id, workspace, execution, kind, target, field, priority, status, body, "
        "created_at, updated_at) SELECT gen_random_uuid(), {}, {}, 'recommendation', 'https://shop.example/p/' || n, "
        "'title', 'medium', 'open', jsonb_build_object('before', 'Old ' || n, 'after', 'New title ' || n, "
        "'reason', (SELECT string_agg(md5(n || '-' || i), '') FROM generate_series(1, 45) AS i), 'check', "
        "'missing_title'), now(), now() "
        "FROM generate_series(1, 10000) AS n", workspace_id, run_id)
    path = f"{API}/executions/{run_id}/export"

    async def measured(fmt: str) -> tuple[int, int, int]:
        target = tmp_path / f"export.{fmt}"
        chunks = 0
        with target.open("wb") as out:
            def sink(data: bytes) -> None:
                nonlocal chunks
                chunks += 1
                out.write(data)

            await asgi_get(app, path, f"format={fmt}", team.member.bearer, lambda data: None)  # warm up
            tracemalloc.start()
            try:
                start = await asgi_get(app, path, f"format={fmt}", team.member.bearer, sink)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert start["status"] == 200
        return chunks, peak, target.stat().st_size

    chunks, peak, size = await measured("json")
    assert size > 15_000_000 and chunks >= 20  # arrives in pieces as it is read
    assert peak < 5_000_000, f"JSON export peaked at {peak:,} bytes"
    doc = json.loads((tmp_path / "export.json").read_text())
    assert len(doc["results"]) == 10_008 and doc["results"][-1]["after"] == "New title 10000"

    chunks, peak, size = await measured("csv")
    assert size > 7_000_000 and chunks >= 20  # even compressed, more than the memory it may use
    assert peak < 5_000_000, f"CSV export peaked at {peak:,} bytes"
    rows = csv_rows(zipfile.ZipFile(tmp_path / "export.csv").read("recommendations.csv"))
    assert len(rows) == 1 + 10_002 and rows[-1][:4] == ["https://shop.example/p/10000", "title", "Old 10000",
                                                        "New title 10000"]


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def key_of(url: str) -> str:
    return urlsplit(url).path.split("/", 2)[2]  # path-style: /<bucket>/<key>


@pytest.mark.usefixtures("clean_site")
async def test_pdf_report_of_a_real_audit_is_stored_and_linked(client, factory, site, monkeypatch):
    team, workspace_id, run_id = await finished_run(factory, "seo-audit", {"start_url": f"{site.url}/"}, 100)
    first = await export(client, team.member, run_id, "pdf")
    assert first.status_code == 303, first.text
    url = first.headers["location"]
    key = key_of(url)
    assert key.startswith(f"workspaces/{workspace_id}/exports/{run_id}/") and key.endswith(".pdf")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["604800"]  # 30 days asked; S3 signs a week at most

    download = httpx.get(url)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert attachment(download) == f"seo-audit-{run_id.hex[:8]}.pdf"
    reader, text = pdf_text(download.content)
    assert len(reader.pages) >= 2
    results = (await client.get(f"{API}/executions/{run_id}/results?limit=250", headers=team.member.bearer)).json()
    score = next(r for r in results["items"] if r["kind"] == "score")
    rec = next(r for r in results["items"] if r["kind"] == "recommendation" and r["priority"] == "high")
    assert f"SEO audit of {site.url}/" in text and reader.metadata.title == f"SEO audit of {site.url}/"
    assert f"{score['value']:g}/100" in text and "SEO score" in text
    assert " ".join(rec["after"].split()) in text
    for page in reader.pages:  # fonts travel with the file: it prints the same anywhere
        for font in page["/Resources"].get("/Font", {}).values():
            descendant = font.get_object().get("/DescendantFonts", [font])[0].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descendant["/FontDescriptor"])

    await storage.put(key, b"%PDF- the stored one", "application/pdf")
    again = await export(client, team.member, run_id, "pdf")
    assert key_of(again.headers["location"]) == key  # unchanged run: the stored PDF is reused, not redrawn
    assert httpx.get(again.headers["location"]).content == b"%PDF- the stored one"
    monkeypatch.setenv("EXPORT_LINK_DAYS", "2")
    get_settings.cache_clear()
    approved = await client.post(f"{API}/results/{rec['id']}/approve", headers=team.member.bearer)
    assert approved.status_code == 200
    changed = await export(client, team.member, run_id, "pdf")
    assert key_of(changed.headers["location"]) != key  # a decision changes what the report shows
    assert parse_qs(urlsplit(changed.headers["location"]).query)["X-Amz-Expires"] == ["172800"]
    assert "APPROVED" in pdf_text(await storage.get(key_of(changed.headers["location"])))[1]


async def test_generated_pdfs_are_kept_for_the_workspaces_downloads_days_then_deleted(client, factory):
    from datetime import timedelta

    from agentledger.platform.clock import now
    from agentledger.platform.retention import passes

    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-results", {}))
    await runner.run_execution(run["id"])
    answer = await client.get(f"{API}/executions/{run['id']}/export", params={"format": "pdf"},
                              headers=team.member.bearer)
    assert answer.status_code == 303
    key = key_of(answer.headers["location"])
    assert parse_qs(urlsplit(answer.headers["location"]).query)["X-Amz-Expires"] == ["604800"]  # S3's week
    saved = await client.put(f"{API}/retention", json={"downloads_days": 60}, headers=team.admin.bearer)
    assert saved.status_code == 200
    await passes.run_pass(workspace_id, moment=now() + timedelta(days=31))  # 31 days on: kept (60)
    assert await storage.stored_at(key) is not None
    await client.put(f"{API}/retention", json={"downloads_days": 30}, headers=team.admin.bearer)
    await passes.run_pass(workspace_id, moment=now() + timedelta(days=31))  # past 30 days: gone
    assert await storage.stored_at(key) is None
    again = await client.get(f"{API}/executions/{run['id']}/export", params={"format": "pdf"},
                             headers=team.member.bearer)
    assert key_of(again.headers["location"]) == key and await storage.stored_at(key) is not None  # made again