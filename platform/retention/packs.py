"""An archive pack: many runs' documents in one object, each its own gzip member.

One object per batch rather than per run: a pass makes one upload and one read-back per batch, where an
object per run would cost two requests per run (100,000 runs: 200,000 requests). Each run still has a
document of its own, found by ``(key, offset, size)`` and checked by its own SHA-256, so a restore reads
exactly its bytes (a ranged GET). A pack is itself a valid gzip file: ``gunzip`` gives one JSON document
per line. The pack is written to a spooled temporary file (memory up to 8 MB, then disk) and uploaded as
a stream, so memory stays flat whatever the batch holds."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from isal import isal_zlib

SPOOL_BYTES = 8 << 20
# ISA-L (Intel's storage library, through ``isal``) writes the same gzip format about nine times faster than
# zlib at its fastest level, at zlib's default size within a few percent; archiving is bound by CPU time
# (bench/archive.py). Level 2 of ISA-L's 0-3.
LEVEL = 2
NICENESS = 10  # compression is background work: a web request on the same machine goes first


def _lower_priority() -> None:
    """On Linux a thread has its own nice value: only the compressing thread steps back."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


COMPRESSOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack", initializer=_lower_priority)
"""Where ``Pack.add`` runs (off the event loop): one thread, at a lower priority."""


@dataclass
class Member:
    offset: int
    size: int
    sha256: str


@dataclass
class Pack:
    file: Any = field(default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))
    size: int = 0

    def add(self, documents: list[bytes]) -> list[Member]:
        """Compress each document as a gzip member at the end of the pack, in order (blocking: run it on
        ``COMPRESSOR``)."""
        members = []
        for document in documents:
            data = _gzip(document)
            members.append(Member(self.size, len(data), hashlib.sha256(data).hexdigest()))
            self.file.write(data)
            self.size += len(data)
        return members

    def rewind(self) -> Any:
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()


def _gzip(document: bytes) -> bytes:
    """One document as one gzip member (wbits 31: a gzip header and trailer). The one-shot call, not a
    ``compressobj``: it releases the GIL while it compresses (two threads ran in 41 ms what one ran in 67;
    through a ``compressobj`` two took 66), so the pass's event loop keeps reading the database meanwhile."""
    return isal_zlib.compress(document, LEVEL, 31)


def open_member(data: bytes) -> bytes:
    """One member's bytes, decompressed."""
    return gzip.decompress(data)
