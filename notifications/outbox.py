"""The email outbox: messages are rendered and stored in the business transaction, then delivered by a
worker after commit. A rolled-back change sends nothing; a failed delivery keeps its row and error."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from agentledger.notifications.tables import EmailOutbox

TEMPLATES = Path(__file__).parent / "templates" / "email"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML for ``template`` (files ``<template>.subject|txt|html``)."""
    subject = _env.get_template(f"{template}.subject").render(context).strip()
    return subject, _env.get_template(f"{template}.txt").render(context), _env.get_template(
        f"{template}.html"
    ).render(context)


async def enqueue_email(*, workspace_id: UUID | None, kind: str, to: str, template: str,
                        context: dict[str, Any]) -> UUID:
    from agentledger.notifications.tasks import deliver_email
    from agentledger.platform.broker import enqueue

    subject, text, html = render(template, context)
    rows = await EmailOutbox.insert(
        EmailOutbox(workspace=workspace_id, kind=kind, to_email=to, subject=subject, body_text=text,
                    body_html=html)
    ).returning(EmailOutbox.id)
    enqueue(deliver_email, str(rows[0]["id"]))
    return rows[0]["id"]
