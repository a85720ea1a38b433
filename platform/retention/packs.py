"""An archive pack: many runs' documents in one object, each its own gzip member.

One object per batch rather than per run: a pass makes one upload and one read-back per batch, where an
object per run would cost two requests per run (100,000 runs: 200,000 requests). Each run still has a
document of its own, found by ``(key, offset, size)`` and checked by its own SHA-256, so a restore reads
exactly its bytes (a ranged GET). A pack is itself a valid gzip file: ``gunzip`` gives one JSON document
per line. The pack is written to a spooled temporary file (memory up to 8 MB, then disk) and uploaded as
a stream, so memory stays flat whatever the batch holds."""

from __future__ import annotations

import gzip
import hashlib
import tempfile
import zlib
from dataclasses import dataclass, field
from typing import Any

SPOOL_BYTES = 8 << 20
LEVEL = 6  # zlib's default: archive text (JSON with repeated keys) shrinks 8-15x


@dataclass
class Member:
    offset: int
    size: int
    sha256: str


@dataclass
class Pack:
    file: Any = field(default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))
    size: int = 0

    def add(self, document: str) -> Member:
        """Compress one document as a gzip member at the end of the pack."""
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
        data = compressor.compress(document.encode() + b"\n") + compressor.flush()
        member = Member(self.size, len(data), hashlib.sha256(data).hexdigest())
        self.file.write(data)
        self.size += len(data)
        return member

    def rewind(self) -> Any:
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()


def open_member(data: bytes) -> bytes:
    """One member's bytes, decompressed."""
    return gzip.decompress(data)
