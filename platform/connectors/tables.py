"""Connectors: where a workspace's approved changes are pushed (a site's change API). Secrets are
stored encrypted (see ``connectors.secrets``) and never returned."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


class Connector(Table, tablename="connectors"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    name = Varchar(length=80)
    kind = Varchar(length=16, default="http-json")
    base_url = Text()  # changes to pages under this origin go through this connector
    secret_ciphertext = Text()
    secret_hint = Varchar(length=8)  # the last characters, so people can tell secrets apart
    created_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
