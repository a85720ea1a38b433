"""What the API and the pages both answer with: ``shaped`` (an API struct filled from a service's dataclass
or row, by field name), a run's download (JSON, CSV, or a 303 to its PDF) and an artifact's file. Here so
that pages never import an API module (DESIGN section 2) and each is built once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar
from uuid import UUID

import msgspec
from litestar import Response
from litestar.response import Redirect, Stream
from litestar.status_codes import HTTP_303_SEE_OTHER

from agentledger.agents.registry import get_agent
from agentledger.platform import storage
from agentledger.platform.errors import Conflict, Gone, NotFound
from agentledger.platform.executions import states
from agentledger.platform.exports import csv_export, json_export, pdf_export, reading
from agentledger.platform.scoping import Scope

Format = Literal["csv", "json", "pdf"]
PICTURES = ("image/png", "image/jpeg", "image/webp", "image/gif")
Shape = TypeVar("Shape", bound=msgspec.Struct)
_MISSING = object()


def shaped(shape: type[Shape], source: Any, **given: Any) -> Shape:
    """``shape`` (an API struct) with each of its fields taken by name from ``source`` (a service's
    dataclass or object, or a row), unless ``given``; one the source lacks keeps the struct's default. So
    each answer's fields are declared once, in its struct, rather than copied out one by one by position."""
    values: dict[str, Any] = {}
    for name in shape.__struct_fields__:
        if name in given:
            values[name] = given[name]
            continue
        value = source.get(name, _MISSING) if isinstance(source, Mapping) else getattr(source, name, _MISSING)
        if value is not _MISSING:
            values[name] = value
    return shape(**values)


def _agent_title(name: str) -> str:
    try:
        return get_agent(name).title
    except NotFound:  # an agent since removed: its runs still export
        return name


class Download(Stream):
    """A streamed file. Litestar's ``Stream`` lets the handler's media type (JSON, for this handler) win over
    its own (``media_type or self.media_type``, unlike ``Response``); a download keeps the type it was given."""

    def to_asgi_response(self, *args: Any, media_type: Any = None, **kwargs: Any) -> Any:
        return super().to_asgi_response(*args, media_type=self.media_type, **kwargs)


def _download(chunks: Any, media_type: str, filename: str) -> Download:
    return Download(chunks, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{filename}"', "cache-control": "private, no-store"})


async def export_response(scope: Scope, execution_id: UUID, format: Format,  # noqa: A002
                          *, shared: bool = False) -> Any:
    """A run's download for anyone who may see it (the API, and the pages of a shared link: ``shared``
    makes the PDF's edition without credits, errors and steps)."""
    run = await reading.read(scope, execution_id, _agent_title)  # 404 unless the caller may see the run
    if format == "pdf":
        if run.record.status not in states.FINAL:
            raise Conflict("the PDF report is made when the run ends; download JSON or CSV meanwhile",
                           field="format")
        return Redirect(await pdf_export.link(run, shared=shared), status_code=HTTP_303_SEE_OTHER)
    if format == "json":
        return _download(json_export.stream(run), json_export.MEDIA_TYPE, run.filename("json"))
    csv = await csv_export.export(run)
    return _download(csv.chunks, csv.media_type, csv.filename)


async def artifact_response(row: dict[str, Any], inline: bool) -> Response[bytes]:
    """An artifact's file, for a result row the caller may see (the API, and a shared link's pages)."""
    if row["kind"] != "artifact":
        raise Conflict("only artifacts have a file to download", field="kind")
    if row.get("files_removed_at"):
        raise Gone(f"this file was deleted on {row['files_removed_at']:%Y-%m-%d} under the workspace's retention "
                   "policy; the run's other records are kept")
    data = await storage.get(row["body"]["key"])
    filename = row["body"]["key"].rsplit("/", 1)[-1].split("-", 1)[-1]
    shown = inline and row["body"]["content_type"] in PICTURES  # never SVG or HTML: they could carry script
    return Response(data, media_type=row["body"]["content_type"],
                    headers={"content-disposition": f'{"inline" if shown else "attachment"}; filename="{filename}"',
                             "x-content-type-options": "nosniff"})
