"""A real Sentinel deployment for the failover tests: one master, one replica and three
`redis-server --sentinel` processes monitoring them under one master name, quorum 2."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from .helpers import RedisServer, wait_until

MASTER_NAME = "mymaster"
# How long a silent master takes to be called down; small, so a failover fits a CI test.
DOWN_AFTER_MS = 1000
# Once Sentinel names the new master, what a client may still wait: the fail-fast window (1 s)
# and one command's connect and socket timeouts (1.5 + 2.5 s) that began before it.
SETTLE_SECONDS = 5.0


class ConfiguredServer(RedisServer):
    """A redis-server with extra command-line settings (e.g. --replicaof)."""

    def __init__(self, binary: str, directory: Path, *extra: str):
        super().__init__(binary, directory)
        self.extra = extra

    def arguments(self) -> list[str]:
        return [*super().arguments(), *self.extra]


class SentinelProcess(RedisServer):
    """`redis-server sentinel.conf --sentinel`: Sentinel rewrites its config file, so each has one."""

    def __init__(self, binary: str, directory: Path, master_port: int):
        super().__init__(binary, directory)
        self.master_port = master_port

    def arguments(self) -> list[str]:
        config = self.directory / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )
        return [str(config), "--sentinel"]


class SentinelDeployment:
    """Master, replica (unless `replica=False`), three sentinels; `stop()` ends every process it
    started."""

    def __init__(self, binary: str, directory: Path, replica: bool = True):
        self.master = ConfiguredServer(binary, directory / "master")
        self.replica: RedisServer | None = None
        self.sentinels: list[SentinelProcess] = []
        try:
            self.master.start()
            if replica:
                self.replica = ConfiguredServer(
                    binary, directory / "replica", "--replicaof", "127.0.0.1", str(self.master.port)
                )
                self.replica.start()
            for i in range(3):
                self.sentinels.append(SentinelProcess(binary, directory / f"sentinel-{i}", self.master.port))
                self.sentinels[-1].start()
        except BaseException:
            self.stop()
            raise

    @property
    def addresses(self) -> str:
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    @property
    def url(self) -> str:
        return f"redis+sentinel://{self.addresses}/{MASTER_NAME}/0"

    def master_port(self) -> int:
        """Where the sentinels say the master is now."""
        client = self.sentinels[0].client(socket_timeout=2)
        try:
            return int(client.sentinel_get_master_addr_by_name(MASTER_NAME)[1])
        finally:
            client.close()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Every sentinel sees the replica and the two other sentinels, and the replica is in
        sync: only then can a failover be elected and promote it. Without a replica, the
        sentinels seeing each other."""
        replicas = 0 if self.replica is None else 1

        def ready() -> bool:
            for sentinel in self.sentinels:
                client = sentinel.client(socket_timeout=2)
                try:
                    state = client.sentinel_master(MASTER_NAME)
                finally:
                    client.close()
                if state["num-slaves"] < replicas or state["num-other-sentinels"] < 2:
                    return False
            if self.replica is None:
                return True
            replica = self.replica.client(socket_timeout=2)
            try:
                return replica.info("replication").get("master_link_status") == "up"
            finally:
                replica.close()

        wait_until(ready, timeout, "the sentinels to see the replica and each other", interval=0.1)

    def wait_promoted(self, old_port: int, timeout: float = 30.0) -> float:
        """Poll the sentinels until they name another master, and that master accepts writes;
        returns the monotonic time it was first seen."""
        wait_until(lambda: self.master_port() != old_port, timeout, "Sentinel to promote the replica", 0.01)
        seen = time.monotonic()
        assert self.replica is not None
        promoted = self.replica.client(socket_timeout=2)
        try:
            wait_until(
                lambda: promoted.info("replication")["role"] == "master",
                timeout,
                "the replica to become master",
            )
        finally:
            promoted.close()
        return seen

    def client_of(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)

    def stop(self) -> None:
        for process in [*self.sentinels, self.master, self.replica]:
            if process is not None:
                process.stop()


def start_sentinel_deployment(binary: str, directory: Path, replica: bool = True) -> SentinelDeployment:
    deployment = SentinelDeployment(binary, directory, replica)
    try:
        deployment.wait_ready()
    except BaseException:
        deployment.stop()
        raise
    return deployment
