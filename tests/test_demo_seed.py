"""Seeding the demo again works on whatever a person left behind: a renamed shop connector included."""

from __future__ import annotations

from agentledger.platform.connectors.tables import Connector
from agentledger.platform.demo import seed

SHOP = ("http://127.0.0.1:8123", "token-1234-abcdef-long")


async def test_the_demo_seeds_again_over_a_renamed_shop_connector(tmp_path):
    await seed(tmp_path / "demo.json", "http://127.0.0.1:8000", demo_site=SHOP)
    await Connector.update({Connector.name: "Northwind (mine)"}).where(Connector.name == "Demo shop")
    await seed(tmp_path / "demo.json", "http://127.0.0.1:8000", demo_site=SHOP)  # "already has a connector" before
    rows = await Connector.select(Connector.name, Connector.base_url)
    assert sorted(r["name"] for r in rows) == ["Demo shop", "Demo shop"]  # one per workspace, renewed
