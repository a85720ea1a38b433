"""One logging set-up for every process: warnings from libraries, info from agentledger, to stderr.

Nothing here logs request bodies, headers or settings, so passwords, tokens and keys stay out of logs.
"""

from __future__ import annotations

import logging
import os

# libraries that log every request at INFO: an agent crawling a site would flood the worker's log
CHATTY = ("httpx", "httpcore", "botocore", "boto3", "urllib3")


def configure() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("agentledger").setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    """Also for worker processes, whose logging Dramatiq sets up (at INFO for everything)."""
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
