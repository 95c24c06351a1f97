"""A real ``redis-server`` (Debian's package, in every toolchain) on a free loopback port, its files in a folder of the
caller's, and the environment that selects the fleet cache on it: shared by the fleet cache's tests
(python/test/fleet/) and the fleet benchmark (benchmarks/fleet.py)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional

BACKEND = "triton.backends.intel.fleet.store:RedisStore"


class RedisServerMissing(RuntimeError):
    """No ``redis-server`` executable here: tests skip (a declared reason), the benchmark says it cannot measure."""


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
            raise RedisServerMissing("redis-server is not installed (Debian's redis-server package; the toolchains "
                                     "have it)")
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


def fleet_env(url: str, **extra: str) -> Dict[str, str]:
    """The environment that selects the fleet cache on the store at ``url`` (Triton's own variables)."""
    env = {"TRITON_CACHE_MANAGER": "triton.runtime.cache:RemoteCacheManager",
           "TRITON_REMOTE_CACHE_BACKEND": BACKEND, "TRITON_XPU_REDIS_URL": url}
    env.update(extra)
    return env
