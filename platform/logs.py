"""One logging set-up for every process: warnings from libraries, info from agentledger, to stderr.

Nothing here logs request bodies, headers or settings, so passwords, tokens and keys stay out of logs.
"""

from __future__ import annotations

import logging
import os


def configure() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("agentledger").setLevel(level)
