"""The baseline: a Litestar hello-world JSON endpoint, served exactly like agentledger."""

from litestar import Litestar, get


@get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar(route_handlers=[hello])
