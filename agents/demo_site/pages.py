"""Turn the catalog plus the planted problems plus the applied fixes into the HTML a visitor sees.

Head fields (title, meta description) and product copy are looked up through ``current`` everywhere,
so a fix pushed through the connector shows on the page, in the feeds and in ``/api/pages`` alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from agentledger.agents.demo_site import planted
from agentledger.agents.demo_site.catalog import (
    CATEGORIES,
    CATEGORY_BY_SLUG,
    FEATURED,
    POST_BY_SLUG,
    POSTS,
    PRODUCT_BY_SLUG,
    PRODUCTS,
    SITE_NAME,
    products_in,
)
from agentledger.agents.demo_site.state import SiteState

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
_env.filters["money"] = lambda cents: f"${cents // 100:,}.{cents % 100:02d}"

ABOUT = (
    "Northwind Outfitters started in 1998 as a repair bench behind a canoe outfitter on the shore of Lake "
    "Superior. We still repair what we sell.",
    "Every product in the shop is tested by our staff on real trips, in real weather, before it goes on sale.",
    "We offer free returns within 60 days and lifetime repairs on our own-brand packs and jackets.",
)
CONTACT = (
    "Questions about sizing, an order or a return? We answer every message within one working day.",
    "Email help@northwind.example or call +1 218 555 0142, Monday to Saturday, 9:00 to 17:00.",
    "Our store is at 14 Harbor Street, Duluth. Come in and try a pack on with a real load.",
)
# Anchor text for the planted links, keyed by href template.
LINK_TEXT = {
    "/products/discontinued-parka": "Yukon Parka (last sizes)",
    "/blog/old-post": "Our 2019 gear guide",
    "http://localhost:{port}/gone": "Press kit (partner site)",
    "http://localhost:1/unreachable": "Route maps from our friends at Fell Guides",
    "/old-home": "Back to the shop front",
    "/loop-a": "Boot size finder",
    "/feeds/catalog.json": "Product catalog feed (JSON, for partners)",
}
_BASE_META = {
    "/": "Outdoor clothing, footwear, packs and camping gear, tested on real trails. Free 60-day returns.",
    "/about": "Since 1998 Northwind Outfitters has equipped hikers and campers from our shop in Duluth.",
    "/contact": "Questions about sizing, orders or returns? Reach the Northwind team by email, phone or in store.",
    "/blog/": "Guides, gear care and trail stories from the Northwind Outfitters team.",
    "/lookbook": "Our autumn collection, photographed in the hills around Lake Superior.",
}


@cache
def default_head() -> dict[str, tuple[str | None, str | None]]:
    """Every HTML page's path with its shipped (title, meta description), planted problems applied."""
    head = {
        "/": (f"{SITE_NAME} | Outdoor Clothing & Camping Gear", _BASE_META["/"]),
        "/about": (f"About Us | {SITE_NAME}", _BASE_META["/about"]),
        "/contact": (f"Contact Us | {SITE_NAME}", _BASE_META["/contact"]),
        "/blog/": (f"Trail Journal | {SITE_NAME}", _BASE_META["/blog/"]),
        "/lookbook": (f"Autumn Lookbook | {SITE_NAME}", _BASE_META["/lookbook"]),
    }
    head |= {p.path: (f"{p.title} | {SITE_NAME}", p.meta_description) for p in POSTS}
    head |= {f"/category/{c.slug}": (f"{c.name} | {SITE_NAME}", c.meta_description) for c in CATEGORIES}
    head |= {p.path: (f"{p.name} | {CATEGORY_BY_SLUG[p.category].name} | {SITE_NAME}", p.meta_description)
             for p in PRODUCTS}
    for path, (title, meta) in head.items():
        if planted.on(path, "missing_title"):
            title = None
        elif planted.on(path, "duplicate_title"):
            title = planted.DUPLICATE_TITLE
        head[path] = (title, None if planted.on(path, "missing_meta_description") or not meta else meta)
    return head


def current(site: SiteState, path: str, name: str) -> str | None:
    """The live value of a page field: the last applied fix, else what the shop shipped with."""
    if name == "description":
        return site.value(path, name, PRODUCT_BY_SLUG[path.removeprefix("/products/")].description)
    title, meta = default_head()[path]
    return site.value(path, name, title if name == "title" else meta)


@dataclass
class Page:
    path: str
    template: str
    heading: str
    context: dict = field(default_factory=dict)


def render(site: SiteState, page: Page, *, base_url: str, port: int) -> str:
    """One HTML page. ``base_url`` builds the canonical link, ``port`` the planted external link."""
    p = page.path
    links = [{"href": e["target"].format(port=port), "text": LINK_TEXT[e["target"]]}
             for e in planted.links_from(p)]
    missing_alt = planted.on(p, "missing_alt")
    return _env.get_template(page.template).render(
        page=page, title=current(site, p, "title"), meta=current(site, p, "meta_description"),
        canonical=None if planted.on(p, "missing_canonical") else base_url + p,
        h1=not planted.on(p, "missing_h1"), second_h1=bool(planted.on(p, "multiple_h1")),
        no_alt=missing_alt["image"] if missing_alt else None, links=links, categories=CATEGORIES,
        **page.context,
    )


def home() -> Page:
    return Page("/", "home.html", "Gear for the long way round",
                {"featured": [PRODUCT_BY_SLUG[s] for s in FEATURED], "posts": POSTS[:3]})


def text_page(path: str) -> Page:
    heading, paragraphs = {"/about": ("About Northwind Outfitters", ABOUT), "/contact": ("Contact us", CONTACT)}[path]
    return Page(path, "text.html", heading, {"paragraphs": paragraphs})


def blog_index() -> Page:
    return Page("/blog/", "blog_index.html", "Trail Journal", {"posts": POSTS})


def post(slug: str) -> Page:
    entry = POST_BY_SLUG[slug]
    return Page(entry.path, "post.html", entry.title,
                {"post": entry, "products": [PRODUCT_BY_SLUG[s] for s in entry.products]})


def category(slug: str) -> Page:
    entry = CATEGORY_BY_SLUG[slug]
    return Page(f"/category/{slug}", "category.html", entry.name, {"category": entry, "products": products_in(slug)})


def product(site: SiteState, slug: str) -> Page:
    entry = PRODUCT_BY_SLUG[slug]
    return Page(entry.path, "product.html", entry.name,
                {"product": entry, "category": CATEGORY_BY_SLUG[entry.category],
                 "description": current(site, entry.path, "description")})


def lookbook() -> Page:
    looks = [(p, CATEGORY_BY_SLUG[p.category]) for p in PRODUCTS[::3]]
    return Page("/lookbook", "lookbook.html", "Autumn Lookbook", {"looks": looks, "padding": _padding()})


@cache
def _padding() -> str:
    """The planted weight of /lookbook: an inline comment a careless export left behind."""
    line = "lookbook-asset-cache: frame=0000 exposure=1/250 iso=200 lens=35mm status=archived\n"
    return "<!-- " + line * (planted.HEAVY_BYTES // len(line) + 1) + " -->"


def plain(path: str, title: str, heading: str, message: str) -> str:
    """Pages outside the audited set (cart, staff sign-in, errors): complete but not part of the checks."""
    return _env.get_template("plain.html").render(
        page=Page(path, "plain.html", heading), title=title, meta=None, canonical=None, h1=True,
        second_h1=False, no_alt=None, links=[], categories=CATEGORIES, message=message)
