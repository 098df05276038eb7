"""A real HTTP/1.1 server in front of a Simulator, for SDKs, other processes and demos.

``SimulatorServer(simulator).start()`` listens on 127.0.0.1 with an ephemeral port by default
and serves each connection on its own thread. ``url`` is the address to give a client, and
``{url}/v3`` is ClickSend's base URL. The server carries out transport faults for real:
``connection_reset`` closes the socket with SO_LINGER 0 so the client gets a TCP RST,
``read_timeout`` keeps the connection open without a response until the client disconnects,
the server stops or ``delay`` seconds pass, and ``response_lost`` closes the connection after
the simulator has committed the request. ``latency`` waits before the response.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .core import SimRequest, SimResponse, Simulator

__all__ = ["MAX_BODY_BYTES", "SimulatorServer"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024
# Idle keep-alive connections are closed after this many seconds.
IDLE_TIMEOUT_SECONDS = 60
STALL_POLL_SECONDS = 0.1


class _BodyTooLarge(Exception):
    pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    simulator: Simulator
    stopping: threading.Event
    connections: set[socket.socket]
    connections_lock: threading.Lock

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)


class _IPv6HTTPServer(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kosmo-clicksend-simulator"
    timeout = IDLE_TIMEOUT_SECONDS
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        # One line per request: the request line and the status, never headers or bodies.
        logger.info("%s %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk_size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if chunk_size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                size += chunk_size
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge
                chunks.append(self.rfile.read(chunk_size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self.send_error(413, f"Request bodies are limited to {MAX_BODY_BYTES} bytes")
            self.close_connection = True
            return
        except ValueError:
            self.send_error(400, "Invalid Content-Length or chunk size")
            self.close_connection = True
            return

        parsed = urlsplit(self.path)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = SimRequest(
            method=self.command,
            path=unquote(parsed.path),
            query=dict(parse_qsl(parsed.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            base_url=f"http://{host}",
        )
        response = self.server.simulator.handle(request)
        fault = response.fault
        if fault is None:
            self._send(response)
        elif fault.kind == "latency":
            self.server.stopping.wait(fault.delay)
            self._send(response)
        elif fault.kind == "connection_reset":
            self._reset_connection()
        elif fault.kind == "read_timeout":
            self._stall(fault.delay)
            self.close_connection = True
        else:
            # response_lost: the simulator committed the request, so close without a response.
            logger.info("Closed the connection without responding to %s %s (response_lost)", self.command, parsed.path)
            self.close_connection = True

    def _send(self, response: SimResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _reset_connection(self) -> None:
        logger.info("Resetting the connection of %s %s", self.command, self.path)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        # The socket closes with an RST once the request's file objects are closed too.
        self.connection.close()

    def _stall(self, seconds: float) -> None:
        """Wait without responding until the client disconnects, the server stops or seconds pass."""
        logger.info("Stalling %s %s for up to %.1f s (read_timeout)", self.command, self.path, seconds)
        deadline = time.monotonic() + seconds
        while not self.server.stopping.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], STALL_POLL_SECONDS)
            if not readable:
                continue
            try:
                if not self.connection.recv(1, socket.MSG_PEEK):
                    return
            except OSError:
                return
            self.server.stopping.wait(STALL_POLL_SECONDS)


class SimulatorServer:
    """Serve a Simulator over HTTP until ``stop``; usable as a context manager.

    ``port`` 0 picks a free port. A host other than a loopback address exposes the
    simulator (and its unauthenticated control API) to the network, so the default is
    127.0.0.1.
    """

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        server_class = _IPv6HTTPServer if ":" in host else _HTTPServer
        self._httpd = server_class((host, port), _Handler)
        self._httpd.simulator = simulator
        self._httpd.stopping = threading.Event()
        self._httpd.connections = set()
        self._httpd.connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The server's root URL, such as ``http://127.0.0.1:8080``; ClickSend's base URL is ``url + "/v3"``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve requests on a background thread."""
        self._serving = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        logger.info("Simulator server listening on %s", self.url)

    def serve_forever(self) -> None:
        """Serve requests on this thread until ``stop`` is called from another thread or KeyboardInterrupt."""
        self._serving = True
        logger.info("Simulator server listening on %s", self.url)
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop accepting, wake stalled requests, close open connections and the listening socket."""
        self._httpd.stopping.set()
        if self._serving:
            self._httpd.shutdown()
            self._serving = False
        with self._httpd.connections_lock:
            open_connections = list(self._httpd.connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        logger.info("Simulator server on %s stopped", self.url)
