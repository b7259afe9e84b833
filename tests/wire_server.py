"""A loopback HTTP server that replays canned provider responses, for the adapter tests.

Real sockets and real HTTP (stdlib `http.server` on port 0), so the adapters' httpx path is the one
exercised; each request gets the next scripted reply and is recorded (path, headers, JSON body).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WIRE = Path(__file__).parent / "data" / "wire"


def wire_json(name: str) -> bytes:
    return (WIRE / name).read_bytes()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    drop: bool = False  # close the connection without answering
    delay_s: float = 0.0


def sse(name: str) -> Reply:
    return Reply(body=(WIRE / name).read_bytes(), content_type="text/event-stream")


def ok(name: str) -> Reply:
    return Reply(body=wire_json(name))


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict


class WireServer:
    def __init__(self, replies: list[Reply]):
        self.replies = list(replies)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n)
                with outer.lock:
                    outer.seen.append(
                        Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw))
                    )
                    reply = (
                        outer.replies.pop(0) if outer.replies else Reply(500, b'{"error":"no reply left"}')
                    )
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                self.send_header("content-length", str(len(reply.body)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(reply.body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # clients that hang up on purpose (timeouts, dropped-connection tests) are expected

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> WireServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
