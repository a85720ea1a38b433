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
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

SPOOL_BYTES = 8 << 20
# zlib level 1: a run's JSON shrinks about 4x at three times the speed of the default (6), which gains
# about a fifth more; archiving is bound by this CPU time, storage by neither (bench/archive.py)
LEVEL = 1
WORKERS = os.cpu_count() or 2
NICENESS = 10  # compression is background work: a web request on the same machine goes first


def _lower_priority() -> None:
    """On Linux a thread has its own nice value: only the compressing threads step back."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


_compressors = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="pack",  # zlib lets go of the GIL
                                  initializer=_lower_priority)


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
        """Compress each document as a gzip member at the end of the pack, in order; the documents are
        compressed in as many runs of consecutive documents as the machine has cores, side by side."""
        share = -(-len(documents) // WORKERS) or 1
        members = []
        for part in _compressors.map(_gzip_all, [documents[i:i + share] for i in range(0, len(documents), share)]):
            for data in part:
                members.append(Member(self.size, len(data), hashlib.sha256(data).hexdigest()))
                self.file.write(data)
                self.size += len(data)
        return members

    def rewind(self) -> Any:
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()


def _gzip_all(documents: list[bytes]) -> list[bytes]:
    return [_gzip(document) for document in documents]


def _gzip(document: bytes) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    return compressor.compress(document) + compressor.flush()


def open_member(data: bytes) -> bytes:
    """One member's bytes, decompressed."""
    return gzip.decompress(data)
