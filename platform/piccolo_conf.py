"""Piccolo's configuration module (PICCOLO_CONF points here): the engine and the app registry."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from agentledger.platform.config import get_settings

DB = PostgresEngine(config={"dsn": get_settings().database_url}, extensions=())

APP_REGISTRY = AppRegistry(
    apps=[
        "agentledger.platform.piccolo_app",
        "agentledger.notifications.piccolo_app",
        "agentledger.billing.piccolo_app",
    ]
)
