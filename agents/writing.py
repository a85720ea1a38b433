"""Product copy for content-writer: a description (60-120 words) and a meta description (at most 155
characters, never cut inside a word) from a catalog entry's facts.

``TemplateWriter`` is the default: offline and deterministic (the same product and tone always read the
same), so runs cost nothing and tests can pin the text. ``OpenAIWriter`` is used when an admin configured
an OpenAI-compatible API; whatever it answers is checked by the same rules, and any failure is a
``WriteError`` naming the reason, for that product's item (never for the whole run).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

import httpx
import msgspec

from agentledger.platform.config import get_settings

Tone = Literal["friendly", "expert", "concise"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
MIN_WORDS, MAX_WORDS = 60, 120
META_LIMIT = 155
MAX_FEATURES = 4  # more would crowd out everything else within 120 words


class ProductFacts(msgspec.Struct, kw_only=True):
    """A catalog entry as a writer needs it; extra fields in the feed (slug...) are ignored."""

    id: Text
    name: Text
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
    category: Text
    price_cents: Annotated[int, msgspec.Meta(ge=0)]
    color: str = ""
    material: str = ""
    features: list[str] = []
    description: str = ""
    meta_description: str = ""


@dataclass(frozen=True, slots=True)
class Copy:
    description: str
    meta_description: str


class WriteError(Exception):
    """This product got no copy; the message says why (shown as the item's reason)."""


class Writer(Protocol):
    label: str  # shown in the run's log: which writer wrote the copy

    async def write(self, product: ProductFacts, tone: Tone) -> Copy: ...


def word_count(text: str) -> int:
    return len(text.split())


def fit_meta(text: str, limit: int = META_LIMIT) -> str:
    """``text`` on one line within ``limit`` characters, shortened at a word boundary if it must be."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return cut if len(cut) <= limit else ""  # one word longer than the limit: nothing fits


def checked(copy: Copy) -> Copy:
    """The copy if it keeps the rules, else a WriteError that says which rule it broke."""
    words = word_count(copy.description)
    if not MIN_WORDS <= words <= MAX_WORDS:
        raise WriteError(f"the description has {words} words; {MIN_WORDS} to {MAX_WORDS} are required")
    if not copy.meta_description or len(copy.meta_description) > META_LIMIT:
        raise WriteError(f"the meta description must be 1 to {META_LIMIT} characters")
    return copy


# --- the template writer ------------------------------------------------------------------------------
NOUNS = {"jackets": "jacket", "footwear": "shoe", "packs": "pack", "camping": "piece of camping gear",
         "accessories": "accessory"}
USES = {
    "jackets": ("It is the layer to grab when the forecast turns and the wind picks up on the ridge.",
                "Wear it on wet commutes, blustery coastal paths and cold mornings at camp."),
    "footwear": ("It keeps its grip from the trailhead to the summit and back again.",
                 "Lace up for rocky paths, muddy forest tracks and long days on your feet."),
    "packs": ("It carries what you need comfortably, whether the day is short or the trip is long.",
              "Load it for day hikes, hut-to-hut treks or the daily ride to work."),
    "camping": ("It earns its place at the campsite, night after night.",
                "Bring it along for weekend trips, long treks and slow evenings by the lake."),
    "accessories": ("It is one of those small things that make a long day outside better.",
                    "Keep it in your pack for every trip, from quick walks to big days in the hills."),
}
GENERIC_USES = ("It is made for real days outside, in real weather.",
                "Take it along on your next trip and see how much easier the day becomes.")

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "friendly": {
        "open": ("Meet the {name}, {a_noun} made for good days outside.",
                 "Say hello to the {name}, {a_noun} you will reach for again and again.",
                 "The {name} is {a_noun} that makes getting outside a little bit easier."),
        "material": ("It is made from {material}, so it feels good and holds up to real use.",
                     "We chose {material} for it because it is comfortable, tough and easy to care for."),
        "features": ("You also get {features}.",
                     "Little things make a big difference, and here that means {features}."),
        "price": ("At {price}, it is a treat that earns its place in your kit.",
                  "All of this costs {price}, and it is ready for your next adventure."),
        "pad": ("Pack it, wear it and enjoy every mile.", "We think it will quickly become a favourite.",
                "It is simple to look after, so it stays ready for the next trip.",
                "Whatever the weather has planned, you will be glad you brought it."),
        "cta": ("Ready for your next trip at {price}.", "Yours for {price}."),
    },
    "expert": {
        "open": ("The {name} is {a_noun} built for demanding conditions.",
                 "Designed for people who know their gear, the {name} is {a_noun} without wasted details.",
                 "The {name} is {a_noun} with a clear focus on function."),
        "material": ("Its construction centres on {material}, chosen for durability and dependable "
                     "performance in the field.",
                     "The build relies on {material}, which balances weight, strength and longevity."),
        "features": ("Key specifications include {features}.", "The technical details: {features}."),
        "price": ("It is priced at {price}.", "The retail price is {price}."),
        "pad": ("Every detail serves a purpose on the trail.",
                "It is built to be repaired and used for many seasons.",
                "Fit and function matter more here than fashion.",
                "It pairs well with the rest of a considered kit list."),
        "cta": ("Specifications and sizing inside; {price}.", "Priced at {price}."),
    },
    "concise": {
        "open": ("The {name}: {a_noun} for everyday adventures.", "The {name} is {a_noun} that simply works.",
                 "Meet the {name}, {a_noun} done right."),
        "material": ("Made from {material}.", "Built from {material}."),
        "features": ("Features: {features}.", "Highlights: {features}."),
        "price": ("Price: {price}.", "Yours for {price}."),
        "pad": ("Light, tough and easy to care for.", "Ready when you are.", "No fuss, just good gear.",
                "Made to last for many seasons.", "It does its job and stays out of the way.",
                "Simple to use, easy to pack and built to go the distance."),
        "cta": ("{price}.", "Now {price}."),
    },
}


def _pick(options: tuple[str, ...], product: ProductFacts, slot: str) -> str:
    """The same option for the same product every time (crc32: Python's own hash is salted per process)."""
    return options[zlib.crc32(f"{product.id}|{slot}".encode()) % len(options)]


def _a(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou8" else "a ") + phrase


def _lower_first(text: str) -> str:
    """'Pit zips' -> 'pit zips' inside a sentence; acronyms and codes ('USB-C', 'R-value 4.2') stay."""
    word = text.split(" ", 1)[0]
    plain = len(word.split("-")[0]) >= 2 and word.replace("-", "").isalpha() and word[1:].islower()
    return text[:1].lower() + text[1:] if plain else text


def _noun(product: ProductFacts) -> str:
    """What the product is, from the last word of its name ('... Rain Jacket' -> 'jacket', '... Socks' ->
    'pair of socks'), else from its category."""
    last = product.name.split()[-1] if product.name.split() else ""
    if len(last) >= 3 and last.isalpha() and last[1:].islower():
        noun = last.lower()
        return f"pair of {noun}" if noun.endswith("s") and not noun.endswith("ss") else noun
    return NOUNS.get(product.category.lower(), "piece of gear")


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def price_text(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


class TemplateWriter:
    label = "templates"

    async def write(self, product: ProductFacts, tone: Tone) -> Copy:
        return checked(Copy(self.description(product, tone), self.meta_description(product, tone)))

    @staticmethod
    def _values(product: ProductFacts) -> dict[str, str]:
        color = product.color.strip().lower()
        features = [_lower_first(f.strip()) for f in product.features if f.strip()][:MAX_FEATURES]
        return {"name": product.name.strip(), "a_noun": _a(f"{color} {_noun(product)}".strip()),
                "material": _lower_first(product.material.strip()), "features": _joined(features) if features else "",
                "price": price_text(product.price_cents)}

    def description(self, product: ProductFacts, tone: Tone) -> str:
        phrases, values = PHRASES[tone], self._values(product)
        facts = [_pick(phrases["open"], product, "open")]
        if values["material"]:
            facts.append(_pick(phrases["material"], product, "material"))
        if values["features"]:
            facts.append(_pick(phrases["features"], product, "features"))
        uses = USES.get(product.category.lower(), GENERIC_USES)
        use = _pick(uses, product, "use")
        sentences = [s.format(**values) for s in [*facts, use, _pick(phrases["price"], product, "price")]]
        pads = sorted(phrases["pad"], key=lambda s: zlib.crc32(f"{product.id}|{s}".encode()))
        pads += [u for u in uses if u != use]
        while word_count(" ".join(sentences)) < MIN_WORDS and pads:
            sentences.insert(-1, pads.pop(0).format(**values))  # the price stays last
        while word_count(" ".join(sentences)) > MAX_WORDS and len(sentences) > len(facts):
            sentences.pop(len(facts))  # uses and padding go first; the facts stay
        return " ".join(sentences)

    def meta_description(self, product: ProductFacts, tone: Tone) -> str:
        """'Name: color material noun. Feature, feature. Call to action.', clauses added while they fit."""
        noun = _noun(product)
        about = " ".join(p for p in (product.color.strip().lower(), _lower_first(product.material.strip()), noun) if p)
        name = product.name.strip()
        clauses = [f"{name}." if about.lower() in name.lower() else f"{name}: {about}."]
        features = [f.strip() for f in product.features if f.strip()][:2]
        if features:
            clauses.append(", ".join([features[0], *map(_lower_first, features[1:])]) + ".")
        clauses.append(_pick(PHRASES[tone]["cta"], product, "cta").format(**self._values(product)))
        text = clauses[0]
        for clause in clauses[1:]:
            if len(text) + 1 + len(clause) <= META_LIMIT:
                text += " " + clause
        return fit_meta(text)


# --- the OpenAI-compatible writer --------------------------------------------------------------------
SYSTEM = (
    "You write product copy for an online shop. Use only the facts given; invent no claims, ratings or "
    "prices. Answer with a JSON object with exactly two string fields: \"description\" (70 to 110 words, "
    "plain text, no markdown, mentions the product name and its material) and \"meta_description\" (one "
    "sentence of at most 150 characters)."
)
TONES = {"friendly": "warm and friendly, addressing the reader as 'you'",
         "expert": "precise and knowledgeable, like a gear specialist",
         "concise": "short sentences, no filler"}
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["description", "meta_description"],
          "properties": {"description": {"type": "string"}, "meta_description": {"type": "string"}}}


class _Answer(msgspec.Struct):
    description: str
    meta_description: str


class OpenAIWriter:
    """POST {base}/chat/completions with a strict JSON schema; one request per product."""

    label = "OpenAI-compatible API"

    def __init__(self, base_url: str, api_key: str, model: str, timeout: float) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key, self.model, self.timeout = api_key, model, timeout
        self.label = f"{model} at {base_url.rstrip('/')}"

    def request_body(self, product: ProductFacts, tone: Tone) -> dict:
        facts = msgspec.to_builtins(product)
        facts["price"] = price_text(product.price_cents)
        for unused in ("url", "price_cents", "meta_description"):
            facts.pop(unused, None)
        return {
            "model": self.model,
            "messages": [{"role": "system", "content": f"{SYSTEM} Tone: {TONES[tone]}."},
                         {"role": "user", "content": json.dumps(facts, ensure_ascii=False)}],
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "product_copy", "strict": True, "schema": SCHEMA}},
            "temperature": 0.7,
        }

    async def write(self, product: ProductFacts, tone: Tone) -> Copy:
        # trust_env=False: the admin configured this endpoint; no proxy from the worker's environment
        try:
            async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as client:
                response = await client.post(self.url, json=self.request_body(product, tone),
                                             headers={"authorization": f"Bearer {self.api_key}"})
        except httpx.TimeoutException:
            raise WriteError(f"the language model did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise WriteError(f"could not reach the language model: {type(error).__name__}: {error}"[:300]) from None
        if response.status_code >= 300:
            raise WriteError(f"the language model answered HTTP {response.status_code}: {_error_of(response)}")
        return checked(_parsed(response))


def _error_of(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return str(message or response.text or "no details")[:300]


def _parsed(response: httpx.Response) -> Copy:
    try:
        choice = response.json()["choices"][0]
        if choice.get("finish_reason") == "length":
            raise WriteError("the language model's answer was cut off (finish_reason: length)")
        answer = msgspec.json.decode(choice["message"]["content"] or "", type=_Answer)
    except WriteError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, msgspec.DecodeError) as error:
        raise WriteError(f"the language model's answer is not the JSON asked for: {error}"[:300]) from None
    description = " ".join(answer.description.split())
    return Copy(description, fit_meta(answer.meta_description))


def writer_from_settings() -> Writer:
    """The language model when an admin configured one (URL and key), else the templates."""
    settings = get_settings()
    if settings.llm_base_url and settings.llm_api_key:
        return OpenAIWriter(settings.llm_base_url, settings.llm_api_key, settings.llm_model,
                            settings.llm_timeout_seconds)
    return TemplateWriter()
