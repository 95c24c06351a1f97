"""The fleet cache's tests: a real ``redis-server`` per test on a free loopback port (its files in the test's temporary
folder, stopped after the test), servers that misbehave (one that accepts and never answers, one that answers what
is not Redis), and the environment that selects the fleet cache through Triton's own variables.

Every node of these tests is a fresh Python process (``nodes.py``) with its own empty Triton cache."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")
BACKEND = "triton.backends.intel.fleet.store:RedisStore"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of Debian's package on 127.0.0.1, configured by ``config`` lines (redis.conf syntax)."""

    def __init__(self, folder: Path, config: List[str], port: int = 0):
        self.folder = folder
        self.config = config
        self.wanted_port = port  # 0: any free one
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "RedisServer":
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.skip("redis-server is not installed (Debian's redis-server package; the toolchains have it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(5):  # another process may take the free port before the server binds it
            self.port = self.wanted_port or free_port()
            conf = self.folder / "redis.conf"
            conf.write_text("\n".join([f"port {self.port}", "bind 127.0.0.1", f"dir {self.folder}", "save \"\"",
                                       "appendonly no", "daemonize no", f"logfile {self.folder / 'redis.log'}",
                                       *self.config]) + "\n")
            self.proc = subprocess.Popen([exe, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kw):
        """A plain client, as an operator or an attacker with access to the store would use."""
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)


@pytest.fixture
def redis_server(tmp_path):
    """Start a redis-server with extra config lines (and on a given port): ``redis_server([...])``; every one
    started is stopped after the test."""
    started = []

    def start(config: Optional[List[str]] = None, port: int = 0) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(started)}", list(config or []), port).start()
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


def fleet_env(url: str, **extra: str) -> Dict[str, str]:
    """The environment that selects the fleet cache on the store at ``url`` (Triton's own variables)."""
    env = {"TRITON_CACHE_MANAGER": "triton.runtime.cache:RemoteCacheManager",
           "TRITON_REMOTE_CACHE_BACKEND": BACKEND, "TRITON_XPU_REDIS_URL": url}
    env.update(extra)
    return env


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
