"""The one chart renderer: valid inline SVG, titles and series names present, markup escaped, bad specs refused."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from agentledger.platform.charts import render_svg

NS = "{http://www.w3.org/2000/svg}"
DATES = [(date(2024, 1, 1) + timedelta(days=i)).isoformat() for i in range(90)]


def line(**overrides) -> dict:
    chart = {"type": "line", "title": "Daily visits", "x_labels": ["Mon", "Tue", "Wed"], "y_title": "visits",
             "series": [{"name": "Visits", "values": [120, None, 95.5]}, {"name": "Orders", "values": [4, 3, 0]}]}
    return chart | overrides


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == NS + "svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter() if el.tag in (NS + "text", NS + "title")]


@pytest.mark.parametrize("chart", [
    line(),
    line(type="bar", title="Top pages", x_labels=["/", "/pricing"],
         series=[{"name": "Visits", "values": [10, 4]}]),
    {"type": "pie", "title": "Revenue by page", "x_labels": ["/", "/pricing"],
     "series": [{"name": "Revenue", "values": [30, 70]}]},
    {"type": "pie", "title": "Revenue by page", "series": [{"name": "/", "values": [3]},
                                                          {"name": "/pricing", "values": [7]}]},
])
@pytest.mark.pure
def test_renders_inline_svg_with_title_and_names(chart):
    svg = render_svg(chart)
    assert svg.startswith("<svg") and "<?xml" not in svg
    root = parse(svg)
    assert root.get("viewBox") == "0 0 800 360"
    shown = texts(root)
    assert chart["title"] in shown
    names = chart["x_labels"] if chart["type"] == "pie" and chart.get("x_labels") else \
        [s["name"] for s in chart["series"]]
    for name in names:
        assert name in shown, name
    assert "<script" not in svg and "javascript" not in svg.lower()


@pytest.mark.pure
def test_markup_in_text_is_escaped():
    evil = "<script>alert(1)</script>"
    chart = line(title=evil, y_title="<b>y</b>", x_labels=["<i>a</i>", "b&c", "\x01ctl"],
                 series=[{"name": '"><script>x</script>', "values": [1, 2, 3]}])
    svg = render_svg(chart)
    assert "<script" not in svg.lower() and "<i>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    root = parse(svg)  # the control character is dropped: the SVG stays well-formed XML
    assert evil in texts(root) and "ctl" in texts(root)
    assert not any(el.tag.endswith("script") for el in root.iter())


@pytest.mark.pure
def test_many_x_labels_are_thinned_but_every_point_is_drawn():
    values = list(range(90))
    root = parse(render_svg(line(x_labels=DATES, series=[{"name": "Visits", "values": values}])))
    axis = next(g for g in root.iter(NS + "g") if g.get("class") == "axis x")
    labels = [t.text for t in axis.iter(NS + "text")]
    assert 3 <= len(labels) <= 10 and labels[0] == DATES[0]
    assert all(label in DATES for label in labels)
    (series_path,) = [p for p in root.iter(NS + "path") if (p.get("class") or "").split()[:1] == ["line"]]
    numbers = series_path.get("d").replace("M", " ").replace("L", " ").split()
    assert len(numbers) == 2 * len(values)


@pytest.mark.pure
def test_bars_keep_every_category_label():
    pages = ["/", "/pricing", "/blog/launch-week", "/docs/getting-started", "/checkout"]
    root = parse(render_svg(line(type="bar", x_labels=pages, series=[{"name": "Visits", "values": [5, 4, 3, 2, 1]}])))
    axis = next(g for g in root.iter(NS + "g") if g.get("class") == "axis x")
    assert len(list(axis.iter(NS + "text"))) == len(pages)


@pytest.mark.pure
def test_the_spec_is_not_modified():
    chart = line()
    before = copy.deepcopy(chart)
    render_svg(chart)
    assert chart == before


@pytest.mark.parametrize(("chart", "message"), [
    ("line", "must be a dict"),
    (line(type="area"), "chart type must be one of bar, line, pie, not 'area'"),
    (line(type=None), "chart type must be one of"),
    (line(title=""), "title must be a string"),
    (line(title=42), "title must be a string"),
    (line(colour="red"), "unknown keys: colour"),
    (line(series=[]), "series must be a list of 1 to"),
    (line(series=[{"name": "Visits", "values": [1, 2]}]), "series 'Visits' has 2 values for 3 x labels"),
    (line(series=[{"name": "Visits", "values": [1, True, 3]}]), "finite numbers or None"),
    (line(series=[{"name": "Visits", "values": [1, float("nan"), 3]}]), "finite numbers or None"),
    (line(series=[{"name": "Visits", "values": [1, "2", 3]}]), "finite numbers or None"),
    (line(series=[{"name": "Visits"}]), "exactly 'name' and 'values'"),
    (line(series=[{"name": "", "values": [1, 2, 3]}]), "series 0 name"),
    (line(x_labels="Mon,Tue"), "x_labels must be a list"),
    (line(x_labels=["Mon", 2, "Wed"]), "x label must be a string"),
    ({"type": "pie", "title": "t", "x_labels": ["a", "b"], "series": [{"name": "s", "values": [1, 2]},
                                                                      {"name": "u", "values": [1, 2]}]},
     "a pie with x_labels takes one series"),
    ({"type": "pie", "title": "t", "series": [{"name": "s", "values": [1, 2]}]}, "one value per series"),
    ({"type": "pie", "title": "t", "x_labels": ["a"], "series": [{"name": "s", "values": [-1]}]}, "negative"),
])
@pytest.mark.pure
def test_bad_specs_are_refused(chart, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        render_svg(chart)


@pytest.mark.pure
def test_long_bar_labels_are_slanted_and_kept_whole():
    checks = ["missing meta description", "duplicate title", "missing alt", "broken link", "slow page",
              "redirect chain", "missing h1"]
    root = parse(render_svg(line(type="bar", x_labels=checks, series=[{"name": "n", "values": list(range(7))}])))
    axis = next(g for g in root.iter(NS + "g") if g.get("class") == "axis x")
    shown = [t for t in axis.iter(NS + "text") if t.text]
    assert [t.text for t in shown] == checks  # no "missing_me…"
    assert all("rotate(35" in (t.get("transform") or "") for t in shown)


SEO_CHECKS = ["missing meta description", "missing canonical", "duplicate title", "missing alt",
              "broken internal link", "duplicate meta description", "multiple h1", "missing h1", "slow page",
              "heavy page", "server error", "redirect loop", "redirect", "missing title", "title length"]


def axis_texts(root: ET.Element, axis: str) -> list[ET.Element]:
    group = next(g for g in root.iter(NS + "g") if (g.get("class") or "").startswith(f"axis {axis}"))
    return [t for t in group.iter(NS + "text") if t.text]


@pytest.mark.pure
def test_every_bar_label_that_fits_slanted_is_shown():
    """Fifteen checks fit slanted side by side; every other one was dropped."""
    chart = line(type="bar", x_labels=SEO_CHECKS, series=[{"name": "findings", "values": list(range(15))}])
    assert [t.text for t in axis_texts(parse(render_svg(chart)), "x")] == SEO_CHECKS


@pytest.mark.pure
def test_y_labels_stand_apart_however_short_the_plot():
    """Slanted page names leave the plot about 140 px: fourteen labels of 10,000 were drawn on top of each other."""
    pages = ["/", "/category/jackets", "/category/footwear", "/category/packs", "/products/ridgeline-rain-jacket"]
    root = parse(render_svg(line(type="bar", x_labels=pages, series=[
        {"name": "Visits", "values": [137_000, 61_000, 53_000, 47_000, 40_000]}])))
    ys = sorted(float(t.get("y")) for t in axis_texts(root, "y"))
    assert len(ys) >= 3 and min(b - a for a, b in zip(ys, ys[1:], strict=False)) >= 20, ys
    labels = [t.text for t in axis_texts(root, "y")]
    assert labels[0] == "0" and "150,000" in labels


@pytest.mark.pure
def test_y_labels_share_their_decimals():
    root = parse(render_svg(line(x_labels=[f"w{n}" for n in range(6)], series=[
        {"name": "Conversion (%)", "values": [1.65, 1.66, 1.34, 1.73, 1.43, 1.7]}])))
    labels = [t.text for t in axis_texts(root, "y")]
    assert labels[:3] == ["0.0", "0.2", "0.4"] and "1.0" in labels and "1" not in labels, labels


@pytest.mark.parametrize(("values", "height", "expected"), [
    ([137_000], 144, ["0", "25,000", "50,000", "75,000", "100,000", "125,000", "150,000"]),
    ([137_000], 80, ["0", "50,000", "100,000", "150,000"]),
    ([18_400], 250, ["0", "2,000", "4,000", "6,000", "8,000", "10,000", "12,000", "14,000", "16,000", "18,000",
                     "20,000"]),
    ([-3, 7], 100, ["-5", "0", "5", "10"]),
    ([0], 200, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
])
@pytest.mark.pure
def test_y_ticks_are_round_and_fit_the_height(values, height, expected):
    from agentledger.platform.charts import MIN_Y_GAP, y_ticks

    ticks = y_ticks(values, height)
    assert [t["label"] for t in ticks] == expected
    assert (len(ticks) - 1) * MIN_Y_GAP <= height


@pytest.mark.pure
def test_on_a_phone_bars_are_rows_with_every_category_top_down():
    chart = line(type="bar", x_labels=SEO_CHECKS, series=[{"name": "findings", "values": list(range(15, 0, -1))}])
    root = parse(render_svg(chart, "narrow"))
    assert root.get("viewBox") == "0 0 360 360"
    rows = sorted(axis_texts(root, "y"), key=lambda t: float(t.get("y")))  # categories at the left, whole
    assert [t.text for t in rows] == SEO_CHECKS
    ys = [float(t.get("y")) for t in rows]
    assert min(b - a for a, b in zip(ys, ys[1:], strict=False)) >= 12  # a 12 px label per row
    values = [float(t.get("x")) for t in axis_texts(root, "x")]
    assert len(values) >= 2 and max(values) <= 360


@pytest.mark.pure
def test_a_phone_line_chart_keeps_its_labels_apart():
    root = parse(render_svg(line(x_labels=DATES, series=[{"name": "Visits", "values": list(range(90))}]), "narrow"))
    xs = [float(t.get("x")) for t in axis_texts(root, "x")]
    assert 2 <= len(xs) <= 4 and min(b - a for a, b in zip(xs, xs[1:], strict=False)) > 10 * 7.2


async def test_the_run_page_serves_each_chart_in_both_sizes(client, factory):
    import re

    from agentledger.agents import launch, runner
    from agentledger.platform.database import atomic
    from agentledger.platform.scoping import resolve_scope
    from tests.support import agents  # noqa: F401 - registers the test agents
    from tests.support.fixtures import sign_in

    team = await factory.team()
    await factory.credits("acme", 100)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-results", {}))
    await runner.run_execution(run["id"])
    await sign_in(client, team.member.email, team.member.password)
    page = (await client.get(f"/w/acme/executions/{run['id']}")).text
    picture = re.search(r'<picture><source media="\(max-width: 640px\)" srcset="([^"]+)\?size=narrow" width="360" '
                        r'height="360"><img class="chart" src="([^"]+)" alt="Status" width="800" height="360"></picture>',
                        page)
    assert picture and picture.group(1) == picture.group(2), "a phone asks for the chart drawn for it"
    assert 'loading="lazy"' not in page[page.index("<picture>"):page.index("</picture>")]
    narrow = await client.get(f"{picture.group(1)}?size=narrow")
    assert narrow.status_code == 200 and 'viewBox="0 0 360 360"' in narrow.text
    wrong = await client.get(f"{picture.group(1)}?size=huge")
    assert wrong.status_code == 422 and "size must be one of wide, narrow" in wrong.text
