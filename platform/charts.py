"""The one chart renderer: a small chart dict in, an inline-able SVG string out (pygal, server-side).

Pages, PDFs (WeasyPrint renders SVG) and reports all call ``render_svg``, so every chart in the product
looks the same and nobody ships a JS chart library. The dict is validated here because it is often
built from agent output: a bad spec fails loudly instead of drawing a misleading chart.

    {"type": "line" | "bar" | "pie", "title": str, "x_labels": [str],
     "series": [{"name": str, "values": [number | None]}], "y_title": str (optional)}

For line and bar charts every series has one value per x label (None leaves a gap). A pie either has
one series whose values are the slices named by ``x_labels``, or no ``x_labels`` and one single-value
series per slice. Text is escaped by pygal's XML serializer, so markup in titles or labels stays text.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from numbers import Real

import pygal
from pygal.style import Style

WIDTH, HEIGHT = 800, 360
SIZES = {"wide": (WIDTH, HEIGHT), "narrow": (360, 360)}  # narrow: phones (800 px would shrink the text to 5 px)
LABEL_CHARS = 16  # longer line-chart x labels are cut with an ellipsis (the full text stays in the tooltip title)
ROTATION = 35  # degrees: bar labels too long to stand side by side are slanted instead (up to 32 characters)
MAX_SERIES = 12
MAX_POINTS = 5000
MAX_TEXT = 200
_KEYS = {"type", "title", "x_labels", "series", "y_title"}
_KINDS = {"line": pygal.Line, "bar": pygal.Bar, "pie": pygal.Pie}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # no XML 1.0 form
_FONT = "'Inter', 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans', sans-serif"

# Tableau 10: distinct, colour-blind friendly hues that sit quietly on white or dark pages.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#475569",
    foreground_strong="#1e293b",
    foreground_subtle="#e2e8f0",
    opacity="0.85",
    opacity_hover="1",
    stroke_opacity="1",
    stroke_width=2.5,
    stroke_width_hover=3,
    transition="none",
    colors=("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac"),
    font_family=_FONT,
    title_font_family=_FONT,
    label_font_family=_FONT,
    major_label_font_family=_FONT,
    legend_font_family=_FONT,
    value_font_family=_FONT,
    tooltip_font_family=_FONT,
    no_data_font_family=_FONT,
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
    tooltip_font_size=12,
    no_data_font_size=16,
    guide_stroke_color="#e2e8f0",
    major_guide_stroke_color="#e2e8f0",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
)


def render_svg(chart: dict, size: str = "wide") -> str:
    """An ``<svg>`` element (no XML declaration, no scripts) ready to inline in HTML or a PDF template;
    ``size`` is one of ``SIZES`` (the labels are laid out for it, not scaled)."""
    kind, title, labels, series, y_title = _validate(chart)
    width, height = SIZES[size]
    config = dict(
        style=STYLE, width=width, height=height, title=title, disable_xml_declaration=True, js=[],
        legend_at_bottom=True, legend_at_bottom_columns=min(max(len(series), 4), 6), truncate_legend=40,
        margin=12, margin_bottom=24, spacing=14, value_formatter=_number, no_data_text="No data",
        print_values=False, show_y_guides=True, show_x_guides=False,
    )
    if kind == "pie":
        chart_obj = pygal.Pie(inner_radius=0.45, **config)
        slices = zip(labels, series[0]["values"], strict=False) if labels else ((s["name"], s["values"][0]) for s in series)
        for name, value in slices:
            chart_obj.add(name, [value])
        return _render(chart_obj)
    horizontal = kind == "bar" and size == "narrow"  # on a phone, categories read best as rows
    if horizontal:  # pygal draws the first row at the bottom: reversed, they read top down (the legend names
        # the values, so the value axis goes without a title)
        labels, series = labels[::-1], [{**item, "values": item["values"][::-1]} for item in series]
    options = dict(config, x_labels=labels, horizontal=horizontal, y_title=None if horizontal else y_title)
    if kind == "line":
        options.update(show_dots=len(labels) <= 31, dots_size=3, fill=False, include_x_axis=True)
    options.update(_axes(kind, labels, series, options))
    chart_obj = _chart(kind, options, series)
    return _render(chart_obj)


def _chart(kind: str, options: dict, series: list[dict]):
    options = dict(options)
    chart_class = pygal.HorizontalBar if options.pop("horizontal") else _KINDS[kind]
    chart_obj = chart_class(**options)
    for item in series:
        chart_obj.add(item["name"], item["values"])
    return chart_obj


def _axes(kind: str, labels: list[str], series: list[dict], options: dict) -> dict:
    """The category labels and value ticks for the plot the chart really gets: laid out once from an
    estimate of the plot's size, measured in a first rendering (tick labels and slanted labels take room
    from it), and laid out again for the measured size."""
    values = [v for item in series for v in item["values"] if v is not None]
    if options["horizontal"]:  # one row per category, labels at the left; values along the bottom
        width, height = _plot_size(kind, {**options, "truncate_label": 2 * LABEL_CHARS}, series)
        rows = {"truncate_label": 2 * LABEL_CHARS}
        if height / max(len(labels), 1) < ROW_PX:
            rows.update(show_minor_x_labels=False, x_labels_major_every=math.ceil(ROW_PX * len(labels) / height))
        widest = (max((len(f"{abs(v):,.0f}") for v in values), default=1) + 1) * CHAR_PX
        # the last tick's label is centred on the plot's right edge: room for its right half
        return {**rows, "margin_right": 12 + widest / 2, "y_labels": y_ticks(values, width - widest / 2,
                                                                            gap=widest + 14)}
    x_axis = _x_layout(labels, kind, options["width"] - 130)
    width, height = _plot_size(kind, {**options, **x_axis}, series)
    measured = _x_layout(labels, kind, width)
    if measured != x_axis:  # slanting changed: the plot's height did too
        x_axis = measured
        width, height = _plot_size(kind, {**options, **x_axis}, series)
    return {**x_axis, "y_labels": y_ticks(values, height)}


_PLOT = re.compile(r'class="plot"><rect x="0" y="0" width="([\d.]+)" height="([\d.]+)"')


def _plot_size(kind: str, options: dict, series: list[dict]) -> tuple[float, float]:
    found = _PLOT.search(_render(_chart(kind, options, series)))
    return (float(found.group(1)), float(found.group(2))) if found else (options["width"] - 130.0,
                                                                          options["height"] - 120.0)


def _render(chart_obj) -> str:
    """pygal writes its config into a ``<script>`` even with ``js=[]``; drop it so the SVG runs nothing."""
    chart_obj.add_xml_filter(_tidy)
    return chart_obj.render(is_unicode=True)


def _tidy(root):
    """Remove every ``<script>``, and set the axis title smaller than the chart title (pygal shares one size)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str):
                continue
            tag = child.tag.rsplit("}", 1)[-1].lower()
            if tag == "script":
                parent.remove(child)
            elif tag == "text" and child.get("class") == "title":
                child.set("style", "font-size:13px")
    return root


def _validate(chart: object) -> tuple[str, str, list[str], list[dict], str | None]:
    if not isinstance(chart, dict):
        raise ValueError("chart must be a dict")
    unknown = set(chart) - _KEYS
    if unknown:
        raise ValueError(f"chart has unknown keys: {', '.join(sorted(map(str, unknown)))}")
    kind = chart.get("type")
    if kind not in _KINDS:
        raise ValueError(f"chart type must be one of {', '.join(sorted(_KINDS))}, not {kind!r}")
    title = _text(chart.get("title"), "title")
    y_title = _text(chart["y_title"], "y_title") if chart.get("y_title") is not None else None
    labels = chart.get("x_labels", [])
    if not isinstance(labels, list) or len(labels) > MAX_POINTS:
        raise ValueError(f"x_labels must be a list of at most {MAX_POINTS} strings")
    labels = [_text(label, "x label", allow_empty=True) for label in labels]
    series = chart.get("series")
    if not isinstance(series, list) or not 1 <= len(series) <= MAX_SERIES:
        raise ValueError(f"series must be a list of 1 to {MAX_SERIES} series")
    clean = []
    for index, item in enumerate(series):
        if not isinstance(item, dict) or set(item) != {"name", "values"}:
            raise ValueError(f"series {index} must be a dict with exactly 'name' and 'values'")
        name, values = _text(item["name"], f"series {index} name"), item["values"]
        if not isinstance(values, list) or not all(_is_value(v) for v in values):
            raise ValueError(f"series {name!r} values must be a list of finite numbers or None")
        clean.append({"name": name, "values": values})
    series = clean
    if kind == "pie":
        _check_pie(labels, series)
    else:
        for item in series:
            if len(item["values"]) != len(labels):
                raise ValueError(f"series {item['name']!r} has {len(item['values'])} values "
                                 f"for {len(labels)} x labels")
    return kind, title, labels, series, y_title


def _check_pie(labels: list[str], series: list[dict]) -> None:
    if labels:
        if len(series) != 1 or len(series[0]["values"]) != len(labels):
            raise ValueError("a pie with x_labels takes one series with one value per label")
        values = series[0]["values"]
    else:
        if any(len(item["values"]) != 1 for item in series):
            raise ValueError("a pie without x_labels takes one value per series")
        values = [item["values"][0] for item in series]
    if any(v is not None and v < 0 for v in values):
        raise ValueError("pie slices cannot be negative")


def _text(value: object, what: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value.strip() and not allow_empty) or len(value) > MAX_TEXT:
        raise ValueError(f"{what} must be a string of {0 if allow_empty else 1} to {MAX_TEXT} characters")
    return _NOT_XML.sub("", value)  # e.g. a stray control character from a CSV; XML cannot carry it


def _is_value(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: float) -> str:
    """Thousands separators; decimals only when the value has them (tooltips and value labels)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


CHAR_PX = 7.2  # about how wide a 12 px label character is
SLANTED_PX = 26  # how far apart slanted labels must stand: 12 px text at 35 degrees, plus a little air
MIN_Y_GAP = 24  # px between y tick labels (12 px text): never closer, so they never overlap
ROW_PX = 16  # px a category row of a horizontal (phone) bar chart needs for its 12 px label


def _x_layout(labels: list[str], kind: str, plot_width: float) -> dict:
    """Every x label that fits the plot is shown: whole labels side by side when they fit, else slanted
    (kept whole up to 32 characters) when that fits them all; beyond that bar labels (categories) stay
    slanted and line labels (dates) stand side by side, thinned evenly to every k-th, as many as fit.
    Every point is drawn whatever is labelled."""
    n = max(len(labels), 1)
    slot = plot_width / n
    longest = max((len(label) for label in labels), default=1)
    if min(longest, 2 * LABEL_CHARS) * CHAR_PX + 12 <= slot:
        return {"x_label_rotation": 0, "truncate_label": -1}
    slanted = {"x_label_rotation": ROTATION, "truncate_label": 2 * LABEL_CHARS}
    if slot >= SLANTED_PX:
        return slanted
    if kind == "bar":
        layout, every = slanted, math.ceil(SLANTED_PX / slot)
    else:
        width = min(longest, LABEL_CHARS) * CHAR_PX + 16
        layout = {"x_label_rotation": 0, "truncate_label": LABEL_CHARS}
        every = math.ceil(n / max(2, int(plot_width // width)))
    return {**layout, "show_minor_x_labels": False, "x_labels_major_every": every}


def y_ticks(values: list[float], length: float, gap: float = MIN_Y_GAP) -> list[dict]:
    """Round value ticks from 0 (or below, for negative values) past the largest value, as many as the
    axis' ``length`` holds ``gap`` apart, all written with the same decimals ("1.4", "1.6", not "1", "1.60")."""
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1
    most = max(2, int(length // gap) + 1)
    exponent = math.floor(math.log10((high - low) / (most - 1)))
    for step in (m * 10.0 ** e for e in range(exponent, exponent + 3) for m in (1, 2, 2.5, 5)):
        bottom, top = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
        if top - bottom + 1 <= most:
            break
    decimals = max(0, -Decimal(repr(step)).normalize().as_tuple().exponent)
    return [{"value": round(i * step, decimals), "label": f"{i * step:,.{decimals}f}"} for i in range(bottom, top + 1)]
