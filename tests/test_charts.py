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


def test_bars_keep_every_category_label():
    pages = ["/", "/pricing", "/blog/launch-week", "/docs/getting-started", "/checkout"]
    root = parse(render_svg(line(type="bar", x_labels=pages, series=[{"name": "Visits", "values": [5, 4, 3, 2, 1]}])))
    axis = next(g for g in root.iter(NS + "g") if g.get("class") == "axis x")
    assert len(list(axis.iter(NS + "text"))) == len(pages)


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
def test_bad_specs_are_refused(chart, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        render_svg(chart)


def test_long_bar_labels_are_slanted_and_kept_whole():
    checks = ["missing meta description", "duplicate title", "missing alt", "broken link", "slow page",
              "redirect chain", "missing h1"]
    root = parse(render_svg(line(type="bar", x_labels=checks, series=[{"name": "n", "values": list(range(7))}])))
    axis = next(g for g in root.iter(NS + "g") if g.get("class") == "axis x")
    shown = [t for t in axis.iter(NS + "text") if t.text]
    assert [t.text for t in shown] == checks  # no "missing_me…"
    assert all("rotate(35" in (t.get("transform") or "") for t in shown)
