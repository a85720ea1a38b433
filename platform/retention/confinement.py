"""One CPU for archiving while people are being served.

A pass is CPU work (PostgreSQL building documents, compression, checksums). On a small machine that also
runs the web tier, a pass on every CPU costs requests their tail latency, and lowering its priority does
not give it back: on a 2-CPU machine, with the run list timed as bench/archive.py times it, one busy
loop beside it under ``SCHED_IDLE`` tripled the list's p99, and a held pass under ``SCHED_IDLE`` or nice 19
did worse than a held pass at normal priority (1.8x and 1.4x against 0.9x, pooled over five turns). Held to
one CPU, a pass costs the list about what a plain busy loop held there costs (the bench prints both). So
while the web tier is serving (``repository.web_serving``), a batch runs held to one CPU: this process's threads, and the
database session's server process when PostgreSQL runs on this machine (a Unix socket, a ``postgres``
process this user may change). The other CPUs stay free for requests. Outside Linux, on one CPU, or
without the rights, it does nothing. In a worker, "this process's threads" are all of them: other jobs
share the one CPU for as long as the batch takes (a few hundred milliseconds).

A hold spans the transaction's commit (``archiver._held_transaction``), so the session's server may be
handed to another task before its hold ends, and held again meanwhile: each server is given back what it
had before its first hold, when its last hold ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
_holds = 0  # holds open in this process: the threads are given back when the last one ends
_every: set[int] = set()  # what the threads had before the first hold
_servers: dict[int, tuple[int, set[int]]] = {}  # server process -> (holds open on it, what it had before the first)


def _cpus() -> set[int]:
    return set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()


def _threads() -> list[int]:
    """This process's threads (a pin of pid 0 moves only the calling thread)."""
    with contextlib.suppress(OSError):
        return [int(name) for name in os.listdir("/proc/self/task")]
    return []


def _pin(pid: int, cpus: set[int]) -> None:
    with contextlib.suppress(OSError):  # a thread that ended meanwhile
        os.sched_setaffinity(pid, cpus)


def local_server(pid: int, unix_socket: bool, user: str, database: str) -> bool:
    """Whether ``pid`` is the database session's own server process on this machine: the session came in
    over a Unix socket, and the process of that number here is a PostgreSQL backend of this user and
    database on a local socket (its title: ``postgres: <user> <database> [local] …``). Behind a pooler, or
    with PostgreSQL in another PID namespace, the number names some other process: it is left alone."""
    if not unix_socket:
        return False
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return title.startswith(f"postgres: {user} {database} [local]")


def pass_cpu() -> set[int]:
    """The CPU a held pass keeps to: the last one this process may use."""
    cpus = _every if _holds else _cpus()
    return {max(cpus)} if cpus else set()


@contextlib.contextmanager
def one_cpu(server_pid: int | None = None) -> Iterator[bool]:
    """Hold this process's threads (and ``server_pid``, a local PostgreSQL backend) to one CPU until the
    block ends. Holds may overlap (two passes in one worker, or a server's next transaction begun before
    its last one's hold ended): a server and the threads (those started meanwhile too) each get back what
    they had when their last hold ends. Yields whether it held anything."""
    global _holds, _every
    cpus = _cpus() if _holds == 0 else _every
    if len(cpus) < 2:
        yield False
        return
    one = {max(cpus)}
    held_server = server_pid is not None and _hold_server(server_pid, one)
    if _holds == 0:
        _every = cpus
        for thread in _threads():
            _pin(thread, one)
    _holds += 1
    try:
        yield True
    finally:
        _holds -= 1
        if _holds == 0:
            for thread in _threads():
                _pin(thread, _every)
        if held_server:
            _release_server(server_pid)  # type: ignore[arg-type]


def _hold_server(pid: int, one: set[int]) -> bool:
    """Hold a local database server to ``one``, counting holds that overlap on it; False when it is not
    ours to change (the threads are still held)."""
    if pid in _servers:
        count, before = _servers[pid]
        _servers[pid] = (count + 1, before)
        return True
    try:
        before = set(os.sched_getaffinity(pid))
        os.sched_setaffinity(pid, one)
    except OSError as error:
        log.debug("retention: cannot hold the database session to one CPU: %s", error)
        return False
    _servers[pid] = (1, before)
    return True


def _release_server(pid: int) -> None:
    count, before = _servers.pop(pid)
    if count > 1:
        _servers[pid] = (count - 1, before)
    else:
        _pin(pid, before)
