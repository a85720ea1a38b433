"""Placeholder photos drawn as SVG (a sky, two ridges, a label), so the shop needs no image files."""

from __future__ import annotations

import zlib
from html import escape

from agentledger.agents.demo_site.catalog import CATEGORY_BY_SLUG, POST_BY_SLUG, PRODUCT_BY_SLUG

_NAMED = {"green": "#3f7a57", "black": "#2b2f33", "grey": "#8a9096", "navy": "#2c3e66", "rust": "#a4532c",
          "mustard": "#c9a227", "brown": "#7a5236", "blue": "#3a6ea5", "charcoal": "#43474d", "slate": "#5d6d7e",
          "olive": "#6b7a3a", "teal": "#2f8080", "red": "#b23a3a", "sand": "#c8b28a", "lime": "#93b83a",
          "orange": "#d9782d", "burgundy": "#7d2e3c", "silver": "#a7adb3", "yellow": "#e2b33c", "cream": "#e8dcc0",
          "tortoise": "#7a5a2e", "steel": "#7f8c95"}


def _colour(text: str) -> str:
    for word in text.lower().replace("-", " ").split():
        if word in _NAMED:
            return _NAMED[word]
    return f"hsl({zlib.crc32(text.encode()) % 360}, 35%, 45%)"


def svg(group: str, name: str) -> str | None:
    """The picture for /images/<group>/<name>.svg, or None when there is no such picture."""
    if group == "products" and name in PRODUCT_BY_SLUG:
        product = PRODUCT_BY_SLUG[name]
        label, colour = product.name, _colour(product.color)
    elif group == "categories" and name in CATEGORY_BY_SLUG:
        label, colour = CATEGORY_BY_SLUG[name].name, _colour(name)
    elif group == "blog" and name in POST_BY_SLUG:
        label, colour = POST_BY_SLUG[name].title, _colour(name)
    elif (group, name) == ("hero", "home"):
        label, colour = "", "#2f5d46"
    else:
        return None
    sky = ("#f3d9b1", "#cfe3ea", "#e6e1f0")[zlib.crc32(name.encode()) % 3]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 500" preserveAspectRatio="xMidYMid slice">'
        f'<rect width="800" height="500" fill="{sky}"/>'
        '<circle cx="640" cy="120" r="46" fill="#fff" opacity=".7"/>'
        '<path d="M0 330 L170 190 L300 300 L450 150 L620 290 L800 200 L800 500 L0 500 Z" fill="#9fb1a6"/>'
        f'<path d="M0 400 L140 300 L290 380 L420 280 L600 390 L800 320 L800 500 L0 500 Z" fill="{colour}"/>'
        f'<text x="70" y="465" font-family="system-ui, sans-serif" font-size="34" font-weight="700" '
        f'fill="#fff">{escape(label)}</text></svg>'
    )
