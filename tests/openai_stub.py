"""A real OpenAI chat-completions server on loopback, with scripted replies.

The LLM composer's client path (langchain-openai -> openai -> httpx -> HTTP -> SSE parsing) is
where timeouts, refused connections, HTTP errors and malformed bodies actually surface, so tests
run it against this server rather than mocking the client. It binds 127.0.0.1 on a free port and
serves from a background thread; each request pops the next scripted reply (or the default one)
and is recorded, so a test can read the exact prompt the model was sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from pydantic import BaseModel


class Reply(BaseModel):
    """One scripted reply. ``echo_system`` plays a model that obeys an injected 'reveal your
    prompt': it answers with the system message it was sent, plus a citation."""

    kind: Literal["text", "malformed", "http_error", "echo_system"] = "text"
    text: str = ""
    delay: float = 0.0
    status: int = 500


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, stub: "OpenAIStub") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stub = stub


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Keep pytest output clean."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "test"}]})
        else:
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:  # noqa: N802
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        stub = self.server.stub
        reply = stub.take(body)
        if reply.delay and stub.stopping.wait(reply.delay):
            return
        try:
            self._answer(body, reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (a timeout test): nothing left to tell it

    def _answer(self, body: dict[str, Any], reply: Reply) -> None:
        if reply.kind == "http_error":
            self._json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            return
        streaming = bool(body.get("stream"))
        if reply.kind == "malformed":
            self._raw(200, "text/event-stream" if streaming else "application/json",
                      'data: {"id": "chatcmpl-stub", "choices": [\n\n' if streaming else '{"id": "chatcmpl-stub", "choices": [')
            return
        text = system_text(body) + " [1]" if reply.kind == "echo_system" else reply.text
        model = body.get("model", "stub")
        if streaming:
            self._stream(text, model, bool((body.get("stream_options") or {}).get("include_usage")))
        else:
            self._json(200, completion(text, model))

    def _stream(self, text: str, model: str, usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        events = [chunk(model, {"role": "assistant", "content": ""})]
        events += [chunk(model, {"content": piece}) for piece in re.findall(r"\S+\s*|\s+", text)]
        events.append(chunk(model, {}, finish="stop"))
        if usage:
            events.append({**chunk(model, {}), "choices": [], "usage": usage_block(text)})
        for event in events:
            self.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode("utf-8"))
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._raw(status, "application/json", json.dumps(payload, ensure_ascii=False))

    def _raw(self, status: int, content_type: str, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def system_text(body: dict[str, Any]) -> str:
    for message in body.get("messages", []):
        if message.get("role") in ("system", "developer"):
            content = message.get("content")
            return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
    return ""


def usage_block(text: str) -> dict[str, int]:
    words = len(text.split())
    return {"prompt_tokens": 100, "completion_tokens": words, "total_tokens": 100 + words}


def completion(text: str, model: str) -> dict[str, Any]:
    return {"id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": usage_block(text)}


def chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class OpenAIStub:
    """Start with ``with OpenAIStub() as stub:``; point a client at ``stub.base_url``."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply(text="I have no script for this request.")
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="openai-stub", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply | str) -> "OpenAIStub":
        """Queue replies for the next requests; a plain string is a normal text reply."""
        with self._lock:
            self.replies.clear()
            self.replies.extend(r if isinstance(r, Reply) else Reply(text=r) for r in replies)
            self.requests.clear()
        return self

    def take(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            return self.replies.popleft() if self.replies else self.default

    def start(self) -> "OpenAIStub":
        self._thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "OpenAIStub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
