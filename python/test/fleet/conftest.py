"""The fleet cache's tests: a real ``redis-server`` per test on a free loopback port (its files in the test's temporary
folder, stopped after the test; ``support.redis_server``, shared with benchmarks/fleet.py), servers that misbehave
(one that accepts and never answers, one that answers what is not Redis), and the environment that selects the fleet
cache through Triton's own variables.

Every node of these tests is a fresh Python process (``nodes.py``) with its own empty Triton cache."""

from __future__ import annotations

import os
import socket
import threading
from typing import List, Optional

import pytest

from support.redis_server import RedisServer, RedisServerMissing, fleet_env

TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")


@pytest.fixture
def redis_server(tmp_path):
    """Start a redis-server with extra config lines (and on a given port): ``redis_server([...])``; every one
    started is stopped after the test."""
    started = []

    def start(config: Optional[List[str]] = None, port: int = 0) -> RedisServer:
        try:
            server = RedisServer(tmp_path / f"redis-{len(started)}", list(config or []), port).start()
        except RedisServerMissing as missing:
            pytest.skip(str(missing))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class FakeServer:
    """A TCP server on a free loopback port that accepts connections and then either never answers
    (``reply=None``) or answers ``reply`` to whatever it is sent.  Counts the connections it accepted."""

    def __init__(self, reply: Optional[bytes]):
        self.reply = reply
        self.accepted = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: List[socket.socket] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.conns.append(conn)
            if self.reply is not None:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(self.reply)
                except OSError:
                    pass

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(timeout=5)
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def fake_server():
    made = []

    def make(reply: Optional[bytes] = None) -> FakeServer:
        made.append(FakeServer(reply))
        return made[-1]

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def in_process_fleet(monkeypatch, tmp_path):
    """Select the fleet cache in this process, with an empty Triton cache, and undo it after: Triton keeps the
    chosen cache manager class in a module global, which must not outlive the test."""
    from triton.runtime import cache
    from triton.backends.intel.fleet import store

    monkeypatch.setitem(vars(cache), "__cache_cls", vars(cache)["__cache_cls"])
    monkeypatch.setitem(vars(cache), "__cache_cls_nme", vars(cache)["__cache_cls_nme"])
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path / "triton-cache"))
    store.forget()

    def select(url: str, **extra: str) -> None:
        for name, value in fleet_env(url, **extra).items():
            monkeypatch.setenv(name, value)

    yield select
    store.forget()
