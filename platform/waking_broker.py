"""Dramatiq's Redis broker, woken up instead of polling.

Dramatiq's Redis consumer polls an empty queue with a growing sleep (5 ms doubling up to the worker
timeout), so a job sent to an idle worker waits for the next poll. Here each enqueue also pushes a token
on a per-queue wake-up list, and an idle consumer waits on that list with BLPOP (same time limit as the
sleep it replaces): an idle worker starts a job within a Redis round trip. Messages themselves are
stored, fetched and acknowledged exactly as Dramatiq does it.

Dramatiq's own rescue of a dead worker's messages ("maintenance": fetched but unacknowledged messages of a
worker silent for ``heartbeat_timeout`` go back to their queue) runs inside its dispatch script on a
random 0.1% of commands, for the one queue the command names. This broker keeps that exactly (a fetch
still follows every wake-up or time-out, an enqueue still rolls the dice), but at that rate, and with no
fetches at all on a queue whose workers are all busy, a dead worker's prefetched runs could wait for
hours. ``maintain`` runs it on demand: the reaper calls it on every pass. ``message_args`` tells the
reaper which runs Redis still holds a message for.
"""

from __future__ import annotations

from uuid import uuid4

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis, dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

WAKE_LIMIT = 1000  # tokens kept per queue; more waiting consumers than this is not a real case


def wake_key(namespace: str, queue_name: str) -> str:
    """Per exact queue name: the delayed queue ("runs.DQ") must not take the tokens meant for "runs"."""
    return f"{namespace}:{queue_name}.wake"


class WakingConsumer(_RedisConsumer):
    def __next__(self) -> MessageProxy | None:
        try:
            while True:
                if self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is None:
                        continue
                    self.misses = 0
                    message = Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
                    return MessageProxy(message)
                messages = []
                if self.outstanding_message_count < self.prefetch:
                    self.message_cache = messages = self.broker.do_fetch(
                        self.queue_name, self.prefetch - self.outstanding_message_count)
                if not messages:
                    self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
                    self.broker.client.blpop([wake_key(self.broker.namespace, self.queue_name)],
                                             timeout=backoff_ms / 1000)
                    return None
        except redis.ConnectionError as error:
            raise ConnectionClosed(error) from None


class WakingRedisBroker(RedisBroker):
    @property
    def consumer_class(self) -> type[WakingConsumer]:
        return WakingConsumer

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        """As Dramatiq's, with the wake-up token in the same round trip (one pipeline)."""
        if delay is not None:
            return super().enqueue(message, delay=delay)
        message = message.copy(options={"redis_message_id": str(uuid4())})
        self.emit_before("enqueue", message, delay)
        key = wake_key(self.namespace, message.queue_name)
        with self.client.pipeline(transaction=False) as pipe:
            self.scripts["dispatch"](keys=[self.namespace], args=[
                # the argument list of RedisBroker._dispatch for the "enqueue" command
                "enqueue", current_millis(), message.queue_name, self.broker_id, self.heartbeat_timeout,
                self.dead_message_ttl, self._should_do_maintenance("enqueue"), self._max_unpack_size(),
                message.options["redis_message_id"], message.encode(),
            ], client=pipe)
            pipe.lpush(key, 1)
            pipe.ltrim(key, 0, WAKE_LIMIT - 1)
            pipe.execute()
        self.emit_after("enqueue", message, delay)
        return message



    def maintain(self, heartbeat_timeout_ms: int) -> None:
        """Dramatiq's maintenance now, on every declared queue and delay queue: the messages of workers
        silent for ``heartbeat_timeout_ms`` go back to their queue (and expired dead letters go)."""
        with self.client.pipeline(transaction=False) as pipe:
            for queue_name in sorted(self.queues | self.delay_queues):
                self.scripts["dispatch"](keys=[self.namespace], args=[  # "qsize" only reads: the command
                    "qsize", current_millis(), queue_name, self.broker_id, heartbeat_timeout_ms,  # is a carrier
                    self.dead_message_ttl, 1, self._max_unpack_size(),
                ], client=pipe)
            pipe.execute()

    def message_args(self, queue_name: str, actor_name: str) -> set[str]:
        """The first argument of every ``actor_name`` message Redis holds for the queue (or its delay
        queue) until it is acknowledged: waiting, prefetched, running, or held by a dead worker."""
        found: set[str] = set()
        for name in (queue_name, dq_name(queue_name)):
            for _, data in self.client.hscan_iter(f"{self.namespace}:{name}.msgs", count=1000):
                message = Message.decode(data)
                if message.actor_name == actor_name and message.args:
                    found.add(str(message.args[0]))
        return found
