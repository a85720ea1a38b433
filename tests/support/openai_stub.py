"""A tiny OpenAI-compatible server for tests: ``POST /v1/chat/completions`` answers product copy as the
JSON content content-writer asks for, over real HTTP on 127.0.0.1. Tests can make it fail (HTTP 500 or
an answer that is not JSON), for every product or for the products they name."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = (None, "500", "not_json")


@dataclass
class OpenAIStub:
    url: str  # what LLM_BASE_URL takes: ends in /v1
    key: str
    fault: str | None = None  # for every request, or only for the names in ``fail_for``
    fail_for: set[str] = field(default_factory=set)
    requests: list[dict] = field(default_factory=list)

    @staticmethod
    def copy_for(name: str) -> dict[str, str]:
        """What the stub writes for a product (about 75 words, a short meta description)."""
        description = (f"The {name} is copy written by the stub model. " + "It reads well and says enough. " * 11
                       + "That is all.")
        return {"description": description, "meta_description": f"{name}, described by the stub model."}


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            stub.requests.append(body)
            if self.path != "/v1/chat/completions":
                return self._answer(404, {"error": {"message": f"no route {self.path}"}})
            if self.headers.get("authorization") != f"Bearer {stub.key}":
                return self._answer(401, {"error": {"message": "Incorrect API key provided",
                                                    "type": "invalid_request_error"}})
            try:
                name = json.loads(body["messages"][-1]["content"]).get("name", "product")
            except (KeyError, IndexError, ValueError, AttributeError):
                name = "product"
            fault = stub.fault if not stub.fail_for or name in stub.fail_for else None
            if fault == "500":
                return self._answer(500, {"error": {"message": "The server had an error while processing "
                                                               "your request.", "type": "server_error"}})
            content = ("Sure! Here is some lovely copy for you." if fault == "not_json"
                       else json.dumps(stub.copy_for(name)))
            self._answer(200, {"id": "chatcmpl-stub", "object": "chat.completion", "model": body.get("model"),
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": content}}]})

    return Handler


@contextmanager
def openai_stub(key: str = "sk-test-stub") -> Iterator[OpenAIStub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    stub = OpenAIStub(f"http://127.0.0.1:{server.server_address[1]}/v1", key)
    server.RequestHandlerClass = _handler(stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
