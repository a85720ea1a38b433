"""Every result status has its own colour, with its word beside it, readable (at least 4.5:1) on the run
page and in the PDF; the statuses are the ones results can have (``records.STATUSES``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.results.records import STATUSES
from agentledger.platform.results.tables import ExecutionResult
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.fixtures import sign_in

ROOT = Path(__file__).resolve().parents[1]
SHEETS = {"page": (ROOT / "web/static/app.css", r"\.badge\.rs-{}"),
          "pdf": (ROOT / "platform/exports/templates/report.css", r"\.s-{}")}


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colours(css: str, selector: str) -> tuple[str, str]:
    """The background and text colour a rule gives ``selector`` (alone, or first in a group)."""
    rule = re.search(rf"(?:^|\}}|\n)\s*{selector}\s*(?:,[^{{]*)?\{{([^}}]*)\}}", css)
    assert rule, f"no rule for {selector}"
    background = re.search(r"background:\s*(#[0-9a-fA-F]{6})", rule.group(1))
    colour = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", rule.group(1))
    assert background and colour, f"{selector} needs its own background and colour"
    return background.group(1).lower(), colour.group(1).lower()


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.pure
def test_each_status_has_its_own_readable_colour(sheet):
    path, pattern = SHEETS[sheet]
    css = path.read_text()
    pairs = {status: colours(css, pattern.format(status)) for status in STATUSES}
    assert len(set(pairs.values())) == len(STATUSES), pairs  # no two statuses look alike
    for status, (background, text) in pairs.items():
        assert contrast(background, text) >= 4.5, f"{status}: {contrast(background, text):.2f}:1"


async def test_every_status_on_the_page_shows_its_word(client, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-results", {}))
    await runner.run_execution(run["id"])
    rows = await ExecutionResult.select().where(ExecutionResult.execution == run["id"]).order_by(ExecutionResult.seq)
    rec, other = [r for r in rows if r["kind"] == "recommendation"]
    await ExecutionResult.update({ExecutionResult.status: "apply_failed"}).where(ExecutionResult.id == other["id"])
    await sign_in(client, team.member.email, team.member.password)
    page = (await client.get(f"/w/acme/executions/{run['id']}")).text
    badges = re.findall(r'<span class="badge rs-(\w+)">([^<]+)</span>', page)
    assert ("open", "open") in badges and ("apply_failed", "apply failed") in badges  # recommendations
    recs = page[page.index('id="recommendations"'):page.index('id="content"')]
    assert recs.count("badge rs-") == 2
    items = page[page.index('id="action-items"'):]
    assert '<span class="badge rs-open">open</span>' in items  # an action item says it is open, not only its button
