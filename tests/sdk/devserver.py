"""A development Hoist for the third-party SDK checks, with a real webhook peer.

Starts a small webhook (it answers every POST with the JSON it received, or 422 when the
payload says `{"refuse": true}`), writes a routes file whose `http` triggers point at it, and
runs the hoist-server binary in development mode with its embedded store in a temporary
folder. Run as a script (`devserver.py [--healthy] [LOG]`) it prints `HOIST_URL=...` once the server answers and serves until it
is sent SIGTERM or SIGINT; `start()` does the same for a test that wants its own server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Bucket aliases as in the shipped routes.toml; triggers are webhooks of this process, one
# per access level, so every trigger outcome can be produced without AWS.
ROUTES = """\
[buckets.uploads]
name = "sdk-uploads"
[buckets.images]
name = "sdk-images"

[files]
default_bucket = "uploads"

[images]
bucket = "images"

[triggers.echo]
kind = "http"
target = "{webhook}/echo"
auth = "supreme"
timeout = "5s"
description = "Echoes the payload back."

[triggers.public-echo]
kind = "http"
target = "{webhook}/echo"
auth = "public"
timeout = "5s"
description = "Echoes the payload back; needs no token."

[triggers.user-echo]
kind = "http"
target = "{webhook}/echo"
auth = "user"
timeout = "5s"
description = "Echoes the payload back; any valid token."

"""

# A trigger whose target fails: its 502 is right, but a fuzzer counts every 5xx as a failure,
# so the server schemathesis sees (`--healthy`) does not declare it.
BROKEN = """
[triggers.broken]
kind = "http"
target = "{webhook}/broken"
auth = "supreme"
timeout = "5s"
description = "A webhook that always fails (500)."
"""


class Webhook(BaseHTTPRequestHandler):
    """Echoes JSON bodies: 200 `{"received": ..., "correlationId": ...}`, 422 on `refuse`."""

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(min(length, 1 << 20))
        if self.path == "/broken":
            self._answer(500, {"error": "broken on purpose"})
            return
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            self._answer(400, {"error": "not JSON"})
            return
        status = 422 if isinstance(payload, dict) and payload.get("refuse") else 200
        self._answer(
            status,
            {"received": payload, "correlationId": self.headers.get("x-correlation-id")},
        )

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DevServer:
    url: str
    process: subprocess.Popen
    webhook: ThreadingHTTPServer
    workdir: tempfile.TemporaryDirectory
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.webhook.shutdown()
        self.webhook.server_close()
        self.workdir.cleanup()


def start(
    binary: str | None = None, log_path: Path | None = None, broken: bool = True
) -> DevServer:
    """Starts the webhook and the server; returns once `GET /heartbeat` answers (60 s at most)."""
    binary = binary or os.environ.get("HOIST_BIN") or str(
        Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "hoist-server"
    )
    webhook = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    workdir = tempfile.TemporaryDirectory(prefix="hoist-sdk-")
    routes = Path(workdir.name) / "routes.toml"
    webhook_url = f"http://127.0.0.1:{webhook.server_port}"
    routes.write_text((ROUTES + (BROKEN if broken else "")).format(webhook=webhook_url))
    port = free_port()
    log_path = log_path or Path(workdir.name) / "hoist.log"
    env = {
        **os.environ,
        "HOIST_ENV": "development",
        "HOIST_SERVER__BIND": f"127.0.0.1:{port}",
        "HOIST_STORAGE__EMBEDDED__ROOT": str(Path(workdir.name) / "data"),
        "HOIST_TELEMETRY__LOG_FILTER": os.environ.get("HOIST_SDK_LOG_FILTER", "warn"),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [binary, "--config-dir", str(ROOT / "configs"), "--routes", str(routes)],
            cwd=workdir.name,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = DevServer(url, process, webhook, workdir, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(f"hoist-server exited with {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/heartbeat", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"hoist-server did not answer within 60 s; see {log_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", type=Path, help="where the server logs")
    parser.add_argument("--healthy", action="store_true", help="declare no failing trigger")
    args = parser.parse_args()
    server = start(log_path=args.log, broken=not args.healthy)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    print(f"HOIST_URL={server.url}", flush=True)
    try:
        while not stopping.wait(1):
            if server.process.poll() is not None:
                sys.exit(f"hoist-server exited with {server.process.returncode}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
