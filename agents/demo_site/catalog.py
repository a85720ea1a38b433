"""The fixed content of Northwind Outfitters: categories, 30 products and 6 blog posts.

Plain data so every start serves the same shop; the planted problems that live in the data (thin copy,
a duplicated or missing meta description) are listed in ``planted.py`` and checked by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

SITE_NAME = "Northwind Outfitters"


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    tagline: str
    meta_description: str


@dataclass(frozen=True)
class Product:
    id: str
    slug: str
    name: str
    category: str
    price_cents: int
    color: str
    material: str
    features: tuple[str, ...]
    description: str
    meta_description: str

    @property
    def path(self) -> str:
        return f"/products/{self.slug}"


@dataclass(frozen=True)
class Post:
    slug: str
    title: str
    meta_description: str
    paragraphs: tuple[str, ...]
    products: tuple[str, ...]  # product slugs the post links to

    @property
    def path(self) -> str:
        return f"/blog/{self.slug}"


CATEGORIES = (
    Category("jackets", "Jackets", "Shells, parkas and layers for wind, rain and snow.",
             "Rain jackets, down parkas and fleece layers from Northwind Outfitters, tested on real trails."),
    Category("footwear", "Footwear", "Boots and shoes that keep their grip from trailhead to summit.",
             "Hiking boots, trail runners and camp shoes built for grip, comfort and long days outside."),
    Category("packs", "Packs", "Daypacks to expedition packs, fitted to carry well.",
             "Daypacks, backpacks and hip packs with fitted harnesses and weatherproof fabrics."),
    Category("camping", "Camping", "Tents, bags and kitchen gear for nights under the stars.",
             ""),  # planted: missing_meta_description
    Category("accessories", "Accessories", "Socks, hats, poles and the small things that matter.",
             "Merino socks, beanies, trekking poles and bottles: the small gear that makes a trip."),
)

_DUPLICATE_META = "Warm layers for cold trails. Shop outdoor clothing at Northwind Outfitters."


def _p(n: int, slug: str, name: str, category: str, price: int, color: str, material: str,
       features: tuple[str, ...], description: str, meta: str) -> Product:
    return Product(f"P{n:03d}", slug, name, category, price, color, material, features, description, meta)


PRODUCTS = (
    _p(1, "ridgeline-rain-jacket", "Ridgeline Rain Jacket", "jackets", 18900, "Spruce green", "3-layer nylon",
       ("Fully taped seams", "Pit zips", "Helmet-compatible hood"),
       "A fully waterproof three-layer shell that packs into its own pocket. Taped seams and a stiff brim keep "
       "driving rain out, while pit zips dump heat on the climb.",
       "Waterproof, breathable three-layer rain jacket with pit zips and a helmet-compatible hood."),
    _p(2, "summit-down-parka", "Summit Down Parka", "jackets", 34900, "Black", "800-fill goose down",
       ("800-fill responsibly sourced down", "Water-resistant shell", "Insulated hood"),
       "Our warmest parka, built around 800-fill responsibly sourced down and a water-resistant shell. Made for "
       "winter belays, frozen bus stops and everything in between.",
       "800-fill down parka with an insulated hood for the coldest days of winter."),
    _p(3, "alpine-fleece-hoodie", "Alpine Fleece Hoodie", "jackets", 8900, "Heather grey", "Recycled polyester fleece",
       ("Grid fleece for breathability", "Thumb loops"),
       "A breathable grid fleece that works as a warm mid layer under a shell or alone on cool evenings at camp. "
       "Thumb loops keep the sleeves in place.",
       _DUPLICATE_META),
    _p(4, "coastal-softshell-jacket", "Coastal Softshell Jacket", "jackets", 14500, "Navy", "Stretch softshell",
       ("Four-way stretch", "Wind-resistant face", "Two hand pockets"),
       "A stretchy, wind-resistant softshell for breezy coastal walks and fast days in the hills. It sheds light "
       "showers and moves with you on every scramble.",
       "Stretch softshell jacket that blocks wind and sheds light rain on coastal walks."),
    _p(5, "timberline-insulated-vest", "Timberline Insulated Vest", "jackets", 9900, "Rust", "Synthetic insulation",
       ("Stays warm when wet", "Packs into chest pocket", "Zippered hand pockets"),
       "Synthetic insulation that stays warm when wet, in a vest that packs into its own chest pocket. Add core "
       "warmth without bulky sleeves.",
       _DUPLICATE_META),
    _p(6, "stormbreak-anorak", "Stormbreak Anorak", "jackets", 12900, "Mustard", "Waxed cotton",
       ("Kangaroo pocket", "Half zip"),
       "A classic waxed cotton pullover for wet days.",  # planted: thin_content
       "Waxed cotton half-zip anorak with a big kangaroo pocket."),
    _p(7, "trailblazer-hiking-boot", "Trailblazer Hiking Boot", "footwear", 17900, "Brown", "Full-grain leather",
       ("Waterproof membrane", "Vibram outsole", "Padded collar"),
       "A full-grain leather boot with a waterproof membrane and a grippy Vibram outsole. Broken in within a "
       "weekend, it will carry you through many seasons of rocky trails.",
       "Waterproof leather hiking boot with a Vibram outsole, comfortable from the first mile."),
    _p(8, "trail-runner-gtx", "Trail Runner GTX", "footwear", 15900, "Blue and orange", "Mesh with waterproof liner",
       ("Rock plate", "Waterproof liner", "Quick laces"),
       "A light, waterproof trail shoe with a protective rock plate and quick laces. Fast enough for race day and "
       "tough enough for muddy training runs in the dark.",
       "Lightweight waterproof trail running shoe with a rock plate and quick-pull laces."),
    _p(9, "basecamp-camp-moc", "Basecamp Camp Moc", "footwear", 6900, "Charcoal", "Quilted ripstop",
       ("Insulated footbed", "Packable"),
       "A quilted, insulated slip-on for the tent and the hut. The grippy sole handles a quick trip outside and the "
       "whole shoe squashes flat into a pack.",
       "Insulated, packable camp slipper with a grippy outdoor sole."),
    _p(10, "granite-approach-shoe", "Granite Approach Shoe", "footwear", 13900, "Slate", "Suede",
       ("Sticky rubber toe", "Climbing lace-up"),
       "A precise suede approach shoe with sticky rubber at the toe for scrambling on granite slabs. Comfortable "
       "enough for the walk in and sure-footed on the way up.",
       ""),  # planted: missing_meta_description
    _p(11, "riverbed-water-sandal", "Riverbed Water Sandal", "footwear", 7900, "Olive", "Recycled webbing",
       ("Quick-drying straps", "Toe protection", "Non-slip sole"),
       "A quick-drying sandal with toe protection and a non-slip sole for river crossings, canoe trips and long "
       "summer days by the water.",
       "Quick-drying water sandal with toe protection for rivers and lakes."),
    _p(12, "frostline-winter-boot", "Frostline Winter Boot", "footwear", 21900, "Black", "Leather and wool felt",
       ("Rated to -30 C", "Removable felt liner", "Ice-grip sole"),
       "An insulated winter boot rated to minus thirty with a removable wool felt liner and an ice-grip sole for "
       "frozen pavements and snowy forest tracks.",
       "Insulated winter boot with a removable wool liner, rated to minus thirty."),
    _p(13, "daybreak-22l-daypack", "Daybreak 22L Daypack", "packs", 8900, "Teal", "Recycled nylon",
       ("Ventilated back panel", "Hydration sleeve", "Rain cover"),
       "A 22 litre daypack with a ventilated back panel, a hydration sleeve and a stowed rain cover. Everything you "
       "need for a long day out and nothing you do not.",
       "22 litre hiking daypack with a ventilated back, hydration sleeve and rain cover."),
    _p(14, "traverse-45l-backpack", "Traverse 45L Backpack", "packs", 19900, "Forest green", "Robic nylon",
       ("Adjustable torso length", "Hip belt pockets", "Top and front access"),
       "A 45 litre backpack for hut-to-hut treks and lightweight overnights, with an adjustable torso length, hip "
       "belt pockets and easy front access to your gear.",
       "45 litre trekking backpack with adjustable fit and front access."),
    _p(15, "expedition-70l-pack", "Expedition 70L Pack", "packs", 27900, "Red", "Ripstop nylon",
       ("Load-lifter straps", "Removable lid", "Ice axe loops"),
       "Our biggest pack, built to carry heavy loads on week-long trips. Load-lifter straps, a removable lid and "
       "ice axe loops make it a trusted base for expeditions.",
       "70 litre expedition backpack built for heavy loads and long trips."),
    _p(16, "summit-hip-pack", "Summit Hip Pack", "packs", 4500, "Black", "Nylon",
       ("Two bottle holsters", "Phone pocket"),
       "A hip pack that carries two bottles, a phone and snacks for short runs and quick summits, with a wide belt "
       "that stays put when you move fast.",
       "Running hip pack with two bottle holsters and a phone pocket."),
    _p(17, "commuter-roll-top", "Commuter Roll-Top", "packs", 11900, "Sand", "Waterproof TPU fabric",
       ("Waterproof roll-top", "Padded laptop sleeve", "Reflective details"),
       "A waterproof roll-top pack for bike commutes and wet city days, with a padded laptop sleeve and reflective "
       "details for dark evening rides home.",
       "Waterproof roll-top backpack with a padded laptop sleeve for bike commuters."),
    _p(18, "hydration-vest-8l", "Hydration Vest 8L", "packs", 12500, "Lime", "Stretch mesh",
       ("Two soft flasks included", "Bounce-free fit"),
       "A light running vest with two flasks.",  # planted: thin_content
       "8 litre running hydration vest with two soft flasks."),
    _p(19, "skyline-2p-tent", "Skyline 2P Tent", "camping", 39900, "Orange", "Silnylon",
       ("Two doors and vestibules", "1.6 kg trail weight", "Freestanding"),
       "A freestanding two-person tent with two doors, two vestibules and a trail weight of 1.6 kg. It pitches in "
       "minutes and stands firm when the wind picks up on exposed ridges.",
       "Freestanding two-person backpacking tent with two doors, 1.6 kg."),
    _p(20, "ember-20-sleeping-bag", "Ember 20 Sleeping Bag", "camping", 24900, "Burgundy", "650-fill down",
       ("Comfort rating -6 C", "Draft collar", "Compression sack"),
       "A 650-fill down bag with a comfort rating of minus six, a draft collar and a compression sack. Warm enough "
       "for three seasons and light enough to forget it is in your pack.",
       "Three-season down sleeping bag rated to minus six with a draft collar."),
    _p(21, "cloudrest-sleeping-pad", "Cloudrest Sleeping Pad", "camping", 12900, "Sky blue", "Insulated TPU",
       ("R-value 4.2", "Pump sack included", "Quiet fabric"),
       "An insulated air pad with an R-value of 4.2, quiet fabric and a pump sack included, for warm and restful "
       "nights on cold ground in spring, summer and autumn.",
       "Insulated sleeping pad, R-value 4.2, with a pump sack and quiet fabric."),
    _p(22, "pinecone-camp-stove", "Pinecone Camp Stove", "camping", 5900, "Silver", "Aluminium and steel",
       ("Piezo igniter", "Simmer control", "Folds to fist size"),
       "A compact canister stove with a piezo igniter and real simmer control. It folds to the size of a fist and "
       "boils a litre of water in about four minutes.",
       "Compact canister camp stove with a piezo igniter and simmer control."),
    _p(23, "lakeshore-camp-chair", "Lakeshore Camp Chair", "camping", 8900, "Green", "Aluminium and polyester",
       ("Packs to 40 cm", "Supports 120 kg"),
       "A packable camp chair that sets up in seconds and supports 120 kg, so the best seat by the lake is always "
       "the one you brought with you.",
       ""),  # planted: missing_meta_description
    _p(24, "lantern-glow-led-lantern", "Lantern Glow LED Lantern", "camping", 3900, "Yellow", "Polycarbonate",
       ("300 lumens", "USB-C charging"),
       "A rechargeable lantern for the tent.",  # planted: thin_content
       "Rechargeable 300 lumen LED camp lantern with USB-C charging."),
    _p(25, "merino-trail-socks", "Merino Trail Socks", "accessories", 2400, "Grey", "Merino wool blend",
       ("Cushioned sole", "Seamless toe", "Odour resistant"),
       "Cushioned merino socks with a seamless toe that stay fresh for days. The wool blend regulates temperature "
       "and resists blisters on long days in boots.",
       "Cushioned merino wool hiking socks with a seamless toe."),
    _p(26, "wool-beanie", "Wool Beanie", "accessories", 2900, "Cream", "Merino wool",
       ("Double-layer cuff", "Itch-free"),
       "A soft merino beanie for cold mornings.",  # planted: thin_content
       "Soft, itch-free merino wool beanie with a double-layer cuff."),
    _p(27, "trekking-poles-pair", "Trekking Poles Pair", "accessories", 9900, "Carbon black", "Carbon fibre",
       ("Flick locks", "Cork grips", "Collapses to 62 cm"),
       "A pair of light carbon trekking poles with flick locks and cork grips that take the strain off your knees "
       "on steep descents and long days with a heavy pack.",
       "Lightweight carbon trekking poles with cork grips and flick locks."),
    _p(28, "polarized-trail-sunglasses", "Polarized Trail Sunglasses", "accessories", 7900, "Tortoise", "Bio-based acetate",
       ("Polarized lenses", "UV400", "Grippy nose pads"),
       "Polarized sunglasses with UV400 protection and grippy nose pads that cut glare on water, snow and bright "
       "open trails without slipping when you sweat.",
       "Polarized UV400 sunglasses with grippy nose pads for bright trails."),
    _p(29, "insulated-bottle-750ml", "Insulated Bottle 750ml", "accessories", 3400, "Steel", "Stainless steel",
       ("Keeps drinks cold 24 hours", "Leak-proof lid"),
       "Keeps drinks hot or cold all day.",  # planted: thin_content
       "750 ml insulated steel bottle with a leak-proof lid."),
    _p(30, "touchscreen-liner-gloves", "Touchscreen Liner Gloves", "accessories", 2900, "Black", "Merino and nylon",
       ("Touchscreen fingertips", "Wear under shell mitts"),
       "Thin merino liner gloves with touchscreen fingertips that work alone on cool days or under shell mitts "
       "when winter gets serious on the mountain.",
       "Merino liner gloves with touchscreen fingertips."),
)

POSTS = (
    Post("layering-guide", "The Three-Layer System, Explained",
         "How base, mid and shell layers work together to keep you dry and warm on changeable days.",
         ("Staying comfortable outdoors is less about one warm jacket and more about layers you can add and remove.",
          "Start with a wicking base layer, add an insulating mid layer such as a fleece, and finish with a shell "
          "that blocks wind and rain.",
          "On the climb, open the pit zips; at the summit, pull the warm layer back on before you cool down."),
         ("alpine-fleece-hoodie", "ridgeline-rain-jacket", "timberline-insulated-vest")),
    Post("choosing-hiking-boots", "How to Choose Hiking Boots",
         "Leather or synthetic, mid or low: a practical guide to finding hiking boots that fit.",
         ("A good boot is the one that fits your foot and your trails.",
          "Try boots on in the afternoon, with the socks you will hike in, and walk downhill on the store ramp.",
          "Leather lasts longer and moulds to your foot; synthetic boots are lighter and need less breaking in."),
         ("trailblazer-hiking-boot", "trail-runner-gtx", "merino-trail-socks")),
    Post("pack-fitting-101", "Pack Fitting 101",
         "",  # planted: missing_meta_description
         ("Most of a pack's weight should sit on your hips, not your shoulders.",
          "Set the torso length first, then tighten the hip belt over your hip bones, then the shoulder straps, "
          "then the load lifters.",
          "A well-fitted pack feels lighter than it is."),
         ("traverse-45l-backpack", "daybreak-22l-daypack", "expedition-70l-pack")),
    Post("campsite-checklist", "The Campsite Checklist",
         "Everything we pack for a weekend of camping, from tent stakes to the second pair of socks.",
         ("Shelter, sleep, kitchen, light: pack by system and you will not forget the essentials.",
          "Pitch the tent at home once before the trip to check every pole and stake is there.",
          "Bring a lantern for the table and a headlamp for the walk to the water."),
         ("skyline-2p-tent", "ember-20-sleeping-bag", "pinecone-camp-stove", "lantern-glow-led-lantern")),
    Post("winter-care-for-down", "Caring for Down in Winter",
         "How to wash, dry and store down jackets and sleeping bags so they stay lofty for years.",
         ("Down keeps you warm by trapping air; keep it clean and dry and it will loft for a decade.",
          "Wash with a down-specific soap on a gentle cycle and tumble dry low with a few clean tennis balls.",
          "Store down loosely in a large cotton sack, never compressed."),
         ("summit-down-parka", "ember-20-sleeping-bag")),
    Post("trail-stories-lake-district", "Trail Stories: Four Days in the Lake District",
         "Four days, three passes and a lot of rain: notes from our team's autumn trip to the Lake District.",
         ("We set off from Keswick under a grey sky with packs a little too heavy.",
          "By the second day the rain had found every weak seam we owned, except in the shells.",
          "The last morning broke clear over Helvellyn, and every soggy mile was worth it."),
         ("traverse-45l-backpack", "ridgeline-rain-jacket", "trekking-poles-pair")),
)

CATEGORY_BY_SLUG = {c.slug: c for c in CATEGORIES}
PRODUCT_BY_SLUG = {p.slug: p for p in PRODUCTS}
PRODUCT_BY_ID = {p.id: p for p in PRODUCTS}
POST_BY_SLUG = {p.slug: p for p in POSTS}
FEATURED = ("ridgeline-rain-jacket", "trailblazer-hiking-boot", "traverse-45l-backpack", "skyline-2p-tent")


def products_in(category: str) -> list[Product]:
    return [p for p in PRODUCTS if p.category == category]
