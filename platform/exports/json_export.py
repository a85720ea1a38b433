"""The whole record of a run as one JSON document, streamed.

The document is the API's ``ExecutionOut`` (inputs, version, steps, log, items) with a ``results`` list
of ``ResultOut`` objects and a ``reviews`` list (each review step's decision and comment) appended. The
head is encoded once; results follow batch by batch, so a run with 10,000 results never sits in memory,
whole or encoded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from agentledger.platform.exports import reading
from agentledger.platform.exports.reading import Run
from agentledger.platform.results.present import present

MEDIA_TYPE = "application/json"


async def stream(run: Run) -> AsyncIterator[bytes]:
    encoder = msgspec.json.Encoder()
    head = encoder.encode(run.record)
    yield head[:-1] + b',"results":['  # the record's closing brace comes after the results
    separator, slug = b"", run.scope.workspace_slug
    async for batch in reading.batches(run):
        yield separator + b",".join(encoder.encode(present(row, workspace_slug=slug)) for row in batch)
        separator = b","
    yield b'],"reviews":' + encoder.encode(await reading.reviews(run)) + b"}"
