"""The email outbox: messages are rendered and stored in the business transaction, then delivered by a
worker after commit. A rolled-back change sends nothing; a failed delivery keeps its row and error; a
message whose dedupe key is already queued is not queued again, and gets no second delivery job.

Rendering happens here, once: every template extends one layout (the workspace's name on top, a footer
saying why the reader got it), CSS is inlined by ``css-inline`` (mail clients drop ``<style>``), links are
absolute, and each row gets its ``Message-ID`` and, for a category people can turn off, a signed
one-click unsubscribe (RFC 8058 ``List-Unsubscribe`` and ``List-Unsubscribe-Post``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from uuid import UUID

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from agentledger.notifications import repository
from agentledger.notifications.preferences import CATEGORIES, unsubscribe_url
from agentledger.platform.config import get_settings

TEMPLATES = Path(__file__).parent / "templates" / "email"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Message:
    """One email to queue: recipient, template (files under templates/email, also the row's category),
    the template's context, and the key that makes it once-only."""

    to: str
    template: str
    context: dict[str, Any]
    dedupe_key: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def _mail_domain() -> str:
    address = get_settings().mail_from.rsplit("@", 1)
    return address[1].strip(" >") if len(address) == 2 else "agentledger.invalid"


def render(template: str, context: dict[str, Any], to: str = "") -> Rendered:
    """Subject, plain text, inlined HTML and list headers for ``template`` sent to ``to``
    (files ``<template>.subject|txt|html``)."""
    category = CATEGORIES.get(template)
    base = get_settings().public_url
    page = {"workspace": None, **context, "base_url": base,
            "why": category.why.format(**context) if category else "",
            "unsubscribe_url": unsubscribe_url(to, template) if category and to else "",
            "preferences_url": f"{base}/settings/notifications"}
    subject = " ".join(_env.get_template(f"{template}.subject").render(page).split())
    page["subject"] = subject
    text = _env.get_template(f"{template}.txt").render(page).strip() + "\n"
    html = _inliner.inline(_env.get_template(f"{template}.html").render(page))
    headers = {"Auto-Submitted": "auto-generated"}
    if page["unsubscribe_url"]:
        headers["List-Unsubscribe"] = f"<{page['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return Rendered(subject, text, html, headers)


async def queue(workspace_id: UUID | None, event: str, messages: Iterable[Message]) -> list[UUID]:
    """Render and store ``messages`` in the open transaction; after commit, one delivery job per row
    actually inserted. Answers those rows' ids (a repeated dedupe key adds none)."""
    from agentledger.notifications.tasks import deliver_email
    from agentledger.platform.broker import enqueue

    rows, keys = [], set()
    for message in messages:
        if message.dedupe_key in keys:  # the same email twice in one event: once
            continue
        keys.add(message.dedupe_key)
        mail = render(message.template, message.context, message.to)
        message_id = make_msgid(domain=_mail_domain())
        rows.append({"workspace": workspace_id, "kind": message.template, "event": event,
                     "dedupe_key": message.dedupe_key, "to_email": message.to, "subject": mail.subject,
                     "body_text": mail.text, "body_html": mail.html, "message_id": message_id,
                     "headers": {"Message-ID": message_id, **mail.headers}})
    ids = await repository.insert(rows)
    for outbox_id in ids:
        enqueue(deliver_email, str(outbox_id))
    return ids
