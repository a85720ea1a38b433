"""The email outbox: messages are rendered and stored in the business transaction, then delivered by a
worker after commit. A rolled-back change sends nothing; a failed delivery keeps its row and error; a
message whose dedupe key is already queued is not queued again, and gets no second delivery job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from agentledger.notifications import repository

TEMPLATES = Path(__file__).parent / "templates" / "email"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Message:
    """One email to queue: recipient, template (files under templates/email, also the row's category),
    the template's context, and the key that makes it once-only."""

    to: str
    template: str
    context: dict[str, Any]
    dedupe_key: str


def render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML for ``template`` (files ``<template>.subject|txt|html``)."""
    subject = _env.get_template(f"{template}.subject").render(context).strip()
    return subject, _env.get_template(f"{template}.txt").render(context), _env.get_template(
        f"{template}.html"
    ).render(context)


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
        subject, text, html = render(message.template, message.context)
        rows.append({"workspace": workspace_id, "kind": message.template, "event": event,
                     "dedupe_key": message.dedupe_key, "to_email": message.to, "subject": subject,
                     "body_text": text, "body_html": html})
    ids = await repository.insert(rows)
    for outbox_id in ids:
        enqueue(deliver_email, str(outbox_id))
    return ids
