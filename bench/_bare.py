"""The dispatch baseline: a bare Dramatiq actor that does nothing but count itself, on the same Redis."""

import os

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["REDIS_URL"], namespace="bench-bare")
dramatiq.set_broker(broker)
counter = redis.Redis.from_url(os.environ["REDIS_URL"])


@dramatiq.actor(queue_name="bare", max_retries=0)
def bare_noop(n: int) -> None:
    counter.incr("bench:bare:done")
