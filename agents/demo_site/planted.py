"""The problems planted in the demo shop, by stable name, so tests can check that agents find them.

Each entry has ``name`` (unique, stable), ``kind``, ``path`` (the page whose HTML or response carries the
problem; for link problems, the page that holds the link) and ``detail``. Link problems add ``target``
(the href; ``{port}`` stands for the site's own port), ``missing_alt`` adds ``image``. The renderer reads
this list too, so the site and the list cannot drift apart.
"""

from __future__ import annotations

DUPLICATE_TITLE = "Northwind Outfitters"


def _e(name: str, kind: str, path: str, detail: str, **extra: str) -> dict:
    return {"name": name, "kind": kind, "path": path, "detail": detail, **extra}


PLANTED: list[dict] = [
    _e("missing-title-about", "missing_title", "/about", "no <title> element"),
    _e("missing-title-summit-down-parka", "missing_title", "/products/summit-down-parka", "no <title> element"),
    *(_e(f"duplicate-title-{slug}", "duplicate_title", path, f'title is exactly "{DUPLICATE_TITLE}"')
      for slug, path in (("contact", "/contact"), ("blog", "/blog/"), ("accessories", "/category/accessories"))),
    *(_e(f"missing-meta-{path.rsplit('/', 1)[-1]}", "missing_meta_description", path, "no meta description")
      for path in ("/category/camping", "/blog/pack-fitting-101", "/products/granite-approach-shoe",
                   "/products/lakeshore-camp-chair")),
    *(_e(f"duplicate-meta-{path.rsplit('/', 1)[-1]}", "duplicate_meta_description", path,
         "same meta description as the other duplicate_meta_description page")
      for path in ("/products/alpine-fleece-hoodie", "/products/timberline-insulated-vest")),
    _e("missing-alt-riverbed-water-sandal", "missing_alt", "/products/riverbed-water-sandal",
       "product photo has no alt", image="/images/products/riverbed-water-sandal.svg"),
    _e("missing-alt-layering-guide", "missing_alt", "/blog/layering-guide",
       "article photo has no alt", image="/images/blog/layering-guide.svg"),
    _e("missing-alt-footwear", "missing_alt", "/category/footwear",
       "category banner has no alt", image="/images/categories/footwear.svg"),
    _e("missing-h1-campsite-checklist", "missing_h1", "/blog/campsite-checklist", "no <h1>; headline is an <h2>"),
    _e("multiple-h1-packs", "multiple_h1", "/category/packs", "two <h1> elements"),
    _e("missing-canonical-contact", "missing_canonical", "/contact", 'no <link rel="canonical">'),
    _e("missing-canonical-commuter-roll-top", "missing_canonical", "/products/commuter-roll-top",
       'no <link rel="canonical">'),
    _e("broken-link-discontinued-parka", "broken_internal_link", "/category/jackets",
       "links to a product page that answers 404", target="/products/discontinued-parka"),
    _e("broken-link-old-post", "broken_internal_link", "/blog/", "links to a post that answers 404",
       target="/blog/old-post"),
    _e("broken-external-gone", "broken_external_link", "/about", "other host answers 410 Gone",
       target="http://localhost:{port}/gone"),
    _e("broken-external-unreachable", "broken_external_link", "/blog/trail-stories-lake-district",
       "connection refused", target="http://localhost:1/unreachable"),
    _e("redirect-old-home", "redirect", "/blog/winter-care-for-down", "/old-home answers 301 to /",
       target="/old-home"),
    _e("redirect-loop", "redirect_loop", "/blog/choosing-hiking-boots", "/loop-a -> /loop-b -> /loop-a",
       target="/loop-a"),
    _e("slow-expedition-70l-pack", "slow_page", "/products/expedition-70l-pack", "answers after 1.5 s"),
    _e("heavy-lookbook", "heavy_page", "/lookbook", "about 3 MB of HTML; linked from the home page"),
    _e("server-error-frostline-winter-boot", "server_error", "/products/frostline-winter-boot", "answers 500"),
    *(_e(f"thin-content-{slug}", "thin_content", f"/products/{slug}", "product description under 15 words")
      for slug in ("stormbreak-anorak", "hydration-vest-8l", "lantern-glow-led-lantern", "wool-beanie",
                   "insulated-bottle-750ml")),
    _e("non-html-catalog-feed", "non_html_link", "/contact", "links to a JSON feed",
       target="/feeds/catalog.json"),
    _e("robots-disallowed-admin", "robots_disallowed", "/admin/",
       "Disallow: /admin/ in robots.txt; linked from every page footer; answers 200 HTML"),
    _e("robots-disallowed-cart", "robots_disallowed", "/cart",
       "Disallow: /cart in robots.txt; linked from every page header; answers 200 HTML"),
]

SLOW_SECONDS = 1.5
HEAVY_BYTES = 3_000_000

# Analytics feed (/feeds/analytics.csv): page "*" means every page that day.
ANALYTICS_PLANTED: list[dict] = [
    {"kind": "spike", "date": "2026-10-09", "page": "*", "detail": "visits x4 on every page"},
    {"kind": "drop", "date": "2026-10-27", "page": "*", "detail": "orders 0 while visits are normal (checkout outage)"},
    {"kind": "trend_up", "date": "2026-11-09", "page": "*",
     "detail": "week 2026-11-09..15 has about 12% more visits than 2026-11-02..08"},
    {"kind": "top_page", "date": None, "page": "/", "detail": "most visits of any page, every day"},
]


def on(path: str, kind: str) -> dict | None:
    """The planted entry of this kind on this page, if any (the renderer asks before it writes a page)."""
    return next((e for e in PLANTED if e["path"] == path and e["kind"] == kind), None)


def links_from(path: str) -> list[dict]:
    """Planted link problems whose link sits on this page."""
    return [e for e in PLANTED if e["path"] == path and "target" in e]
