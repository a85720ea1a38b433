"""Results as a person sees them in Debian chromium, with real runs of seo-audit and analytics-report on
the demo shop: chart labels never overlap and every x label that fits is shown; charts are loaded with
the page (a print or a full-page screenshot has them all); at 390 px the run list and the results
table keep status, credits and the row's action in view and say that they scroll. Screenshots at 1280
and 390 px and the PDFs as PNGs go to .data/screenshots/results for a person to look at."""

from __future__ import annotations

import math
import subprocess

import httpx
import pytest

from agentledger.agents import launch, runner
from agentledger.platform.charts import SIZES, render_svg
from agentledger.platform.database import atomic
from agentledger.platform.results.tables import ExecutionResult
from agentledger.platform.scoping import resolve_scope
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.test_browser import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_site")]
OUT = SHOTS / "results"
BOXES = """svg => Object.fromEntries(["x", "y"].map(axis => [axis, [...svg.querySelectorAll(
    `g.axis.${axis} text`)].filter(t => t.textContent.trim()).map(t => {
      const b = t.getBoundingClientRect(), local = t.getBBox();
      const angle = parseFloat(((t.getAttribute("transform") || "").match(/rotate\\(([-\\d.]+)/) || [0, 0])[1]);
      return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height, angle, anchor: parseFloat(
        t.getAttribute("x")), line: local.height};
    })]))"""


async def real_runs(factory, site) -> tuple:
    team = await factory.team()
    await factory.credits("acme", 1000)
    scope = await resolve_scope("acme", team.member.id)
    runs = {}
    for agent, inputs, size in (("seo-audit", {"start_url": f"{site.url}/"}, 60),
                                ("analytics-report", {"csv_url": f"{site.url}/feeds/analytics.csv"}, None)):
        async with atomic():
            run = await launch.start(scope, launch.Request(agent, inputs, size))
        await runner.run_execution(run["id"])
        runs[agent] = run["id"]
    return team, runs


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Labels drawn over each other. Slanted labels are parallel lines of text: they stand apart when the
    distance between them, across the slant, is at least a line of text (their screen boxes always cross)."""
    if boxes and boxes[0]["angle"]:
        across = math.sin(math.radians(boxes[0]["angle"]))
        return [(a["text"], b["text"]) for a, b in zip(boxes, boxes[1:], strict=False)
                if (b["anchor"] - a["anchor"]) * across < 0.8 * a["line"]]
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"]
            and b["y"] < a["y"] + a["h"]]


async def test_chart_labels_of_real_reports_never_overlap(factory, site):
    team, runs = await real_runs(factory, site)
    reports = await ExecutionResult.select().where(ExecutionResult.kind == "report").output(load_json=True)
    charts = [(r["execution"], c) for r in reports for s in r["body"]["sections"] for c in s["charts"]]
    assert len(charts) == 5  # findings by check; daily visits, daily orders, top pages, weekly conversion
    OUT.mkdir(parents=True, exist_ok=True)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 800, "height": 360})
        for n, (size, (_, chart)) in enumerate((size, c) for size in SIZES for c in charts):
            width, height = SIZES[size]
            await page.set_viewport_size({"width": width, "height": height})
            await page.set_content(f"<body style='margin:0'>{render_svg(chart, size)}</body>")
            await page.screenshot(path=OUT / f"chart-{size}-{n % len(charts)}.png")
            if size == "narrow" and chart["type"] == "bar":  # rows: every category at the left, whole
                rows = (await page.locator("svg").first.evaluate(BOXES))["y"]
                assert sorted(r["text"] for r in rows) == sorted(chart["x_labels"]), chart["title"]
                assert overlapping(rows) == [], f"{chart['title']}: rows overlap"
                continue
            boxes = await page.locator("svg").first.evaluate(BOXES)
            assert len(boxes["y"]) >= 3, chart["title"]
            assert overlapping(boxes["y"]) == [], f"{chart['title']}: y labels overlap"
            assert overlapping(boxes["x"]) == [], f"{chart['title']}: x labels overlap"
            shown, labels = [b["text"] for b in boxes["x"]], chart["x_labels"]
            assert all(b["x"] >= 0 and b["x"] + b["w"] <= width and b["y"] + b["h"] <= height for b in boxes["x"]), \
                shown
            if len(shown) < len(labels):  # thinned (side by side): one more between neighbours would collide
                assert not boxes["x"][0]["angle"], chart["title"]
                gaps = [b["x"] - (a["x"] + a["w"]) for a, b in zip(boxes["x"], boxes["x"][1:], strict=False)]
                assert min(gaps) < max(b["w"] for b in boxes["x"]) + 8, (chart["title"], shown)
            else:
                assert [s.rstrip("…") for s in shown] == [label[:len(s.rstrip("…"))] for s, label in zip(
                    shown, labels, strict=True)]
        checks = next(c for _, c in charts if c["title"] == "Findings by check")
        await page.set_viewport_size({"width": 800, "height": 360})
        await page.set_content(f"<body style='margin:0'>{render_svg(checks)}</body>")
        assert [b["text"] for b in (await page.locator("svg").first.evaluate(BOXES))["x"]] == checks["x_labels"]


async def in_view(page, locator) -> bool:
    box = await locator.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


async def hint(frame) -> tuple[str, float]:
    """The frame's "scroll →" hint and its opacity; the table keeps a strip free for it (no header under it)."""
    content, opacity, strip = await frame.evaluate(
        "el => [getComputedStyle(el, '::before').content, parseFloat(getComputedStyle(el, '::before').opacity), "
        "el.querySelector('thead th').getBoundingClientRect().top - el.getBoundingClientRect().top]")
    if opacity > 0.5:
        assert strip >= 22, f"the hint covers the table's header ({strip:.0f} px above it)"
    return content, opacity


async def test_run_pages_in_chromium_at_1280_and_390(live_url, factory, site):
    team, runs = await real_runs(factory, site)
    OUT.mkdir(parents=True, exist_ok=True)
    async with chromium() as browser:
        page, problems = await watched_page(browser, width=1280)
        await sign_in_with(page, live_url, team.member)
        await page.wait_for_url(f"{live_url}/w/acme/executions")
        for agent, run_id in runs.items():
            await page.goto(f"{live_url}/w/acme/executions/{run_id}")
            await page.wait_for_load_state("load")
            charts = page.locator("img.chart")
            assert await charts.count() >= 1
            # loaded with the page, not when scrolled to: a print or a full-page screenshot has every chart
            assert await charts.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0 "
                                             "&& i.getAttribute('loading') !== 'lazy' && i.width > 0)")
            await page.screenshot(path=OUT / f"{agent}-1280.png", full_page=True)
            fits = page.locator(".table-wrap").filter(has_not=page.locator("caption"))
            for n in range(await fits.count()):  # a table that fits says nothing and keeps no strip
                frame = fits.nth(n)
                if await frame.evaluate("el => el.scrollWidth <= el.clientWidth"):
                    content, opacity = await hint(frame)
                    assert opacity == 0 and await frame.evaluate(
                        "el => el.querySelector('table').getBoundingClientRect().top - "
                        "el.getBoundingClientRect().top") < 2
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(f"{live_url}/w/acme/executions/{runs['seo-audit']}")
        await page.wait_for_load_state("load")
        await page.screenshot(path=OUT / "seo-audit-390.png", full_page=True)
        first = page.locator("table.recs tbody tr").first
        assert await in_view(page, first.locator("input[type=checkbox]")), "the row's selection is off screen"
        assert await in_view(page, first.locator(".badge")), "the recommendation's status is off screen"
        frame = page.locator("section#recommendations .table-wrap")
        assert await frame.evaluate("el => el.scrollWidth > el.clientWidth")  # it scrolls in its frame...
        content, opacity = await hint(frame)
        assert content == '"scroll →"' and opacity > 0.5  # ...and says so
        await frame.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        await page.wait_for_timeout(100)
        assert (await hint(frame))[1] < 0.1  # scrolled to its end: nothing more to the right
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the page does not
        await page.goto(f"{live_url}/w/acme/executions/{runs['analytics-report']}")
        await page.wait_for_load_state("load")
        await page.screenshot(path=OUT / "analytics-report-390.png", full_page=True)
        narrow = await page.locator("img.chart").evaluate_all(  # drawn for the phone, not an 800 px one shrunk
            "imgs => imgs.map(i => [i.currentSrc.endsWith('?size=narrow'), i.complete && i.naturalWidth > 0])")
        assert narrow and all(a and b for a, b in narrow), narrow

        await page.goto(f"{live_url}/w/acme/executions")
        await page.screenshot(path=OUT / "list-390.png", full_page=True)
        heads = [h.strip().lower() for h in await page.locator("table.runs thead th").all_inner_texts()]
        row = page.locator("table.runs tbody tr").first
        for name in ("agent", "status", "credits"):
            cell = row.locator("td").nth(heads.index(name))
            assert await in_view(page, cell), f"the run list's {name} column is off screen at 390 px"
        assert await in_view(page, row.locator("a").first)  # the row's action: open the run
        frame = page.locator("table.runs").locator("xpath=..")
        content, opacity = await hint(frame)
        assert content == '"scroll →"' and opacity > 0.5
        assert problems == [], problems


async def test_the_pdfs_of_both_runs_as_pngs(client, factory, site):
    """Rendered with pdftoppm for a person to look at; each page holds ink (no blank chart pages)."""
    team, runs = await real_runs(factory, site)
    await factory.token("acme", team.member)
    OUT.mkdir(parents=True, exist_ok=True)
    for agent, run_id in runs.items():
        link = await client.get(f"/api/v1/workspaces/acme/executions/{run_id}/export", params={"format": "pdf"},
                                headers=team.member.bearer)
        assert link.status_code == 303, link.text
        pdf = OUT / f"{agent}.pdf"
        pdf.write_bytes(httpx.get(link.headers["location"]).content)
        for old in OUT.glob(f"{agent}-pdf-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(OUT / f"{agent}-pdf")], check=True)
        assert len(list(OUT.glob(f"{agent}-pdf-*.png"))) >= 2
