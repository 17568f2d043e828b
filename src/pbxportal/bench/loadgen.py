"""The HTTP load generator and server harness of the loopback benchmarks (``bench authorize``,
``bench licence-polls``; docs/benchmarks.md).

- ``RawConnection``: a minimal HTTP/1.1 keep-alive client. On two shared cores every microsecond
  the client spends is taken from the server, and http.client's header parsing costs several
  times what a licence poll or a call authorisation does on the server.
- ``open_loop``: a fixed offered load. Request i is due at ``i / rate`` seconds and its latency
  counts from then, so a slow server cannot hide its queue; thread k of ``connections`` sends
  requests k, k + connections, ... over its own keep-alive connection. The run is bounded: what
  is not sent by ``seconds`` plus a grace period is counted as not served.
- ``scratch_database``, ``gunicorn_server``: a dropped-and-created PostgreSQL database and the
  production web server (gunicorn with ``pbxportal.ops.gunicorn``) on loopback.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Response = tuple[int, dict[bytes, str], bytes]


class Closed(Exception):
    """The server closed the connection."""


class RawConnection:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.host = f"{host}:{port}".encode()
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        return sock

    def request(self, method: str, path: str, headers: bytes = b"", body: bytes = b"") -> Response:
        """Send one request (``headers``: ``Name: value\\r\\n`` lines) and read its response;
        a connection the server closed between requests is opened again once."""
        head = f"{method} {path} HTTP/1.1\r\nHost: ".encode() + self.host + b"\r\n" + headers
        if body:
            head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        message = head + b"\r\n" + body
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = self._connect()
            try:
                self.sock.sendall(message)
                return self._response()
            except (ConnectionError, Closed):
                self.sock.close()
                self.sock = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _read_more(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Closed()
        self.buffer += chunk

    def _response(self) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            self._read_more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().decode("latin-1")
        length = int(headers.get(b"content-length", "0"))
        while len(self.buffer) < length:
            self._read_more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if headers.get(b"connection", "").lower() == "close":
            assert self.sock is not None
            self.sock.close()
            self.sock = None
        return status, headers, body


def open_loop(
    *,
    host: str,
    port: int,
    rate: int,
    seconds: float,
    connections: int,
    send: Callable[[RawConnection, int], int],
) -> dict[str, Any]:
    """Offer ``rate`` requests per second for ``seconds``; ``send(connection, i)`` sends request i
    and returns its status. Returns the achieved rate, the statuses and latency quantiles (ms)."""
    total = int(rate * seconds)
    results: list[tuple[list[float], dict[int, int]]] = []
    start = time.perf_counter() + 0.2
    deadline = start + seconds + max(2.0, seconds / 2)

    def worker(first: int) -> None:
        client = RawConnection(host, port)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        for index in range(first, total, connections):
            due = start + index / rate
            now = time.perf_counter()
            if now > deadline:
                break
            if due > now:
                time.sleep(due - now)
            status = send(client, index)
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
        results.append((latencies, statuses))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ordered = sorted(latency for latencies, _ in results for latency in latencies) or [float("inf")]
    statuses: dict[int, int] = {}
    for _, counts in results:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    served = sum(statuses.values())

    def quantile(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "offered_per_s": rate,
        "duration_s": seconds,
        "requests": served,
        "not_served_in_time": total - served,
        "achieved_per_s": round(served / elapsed),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "latency_ms": {
            "p50": quantile(0.50),
            "p90": quantile(0.90),
            "p99": quantile(0.99),
            "max": round(ordered[-1] * 1000, 2),
            "mean": round(statistics.fmean(ordered) * 1000, 2),
        },
    }


def scratch_database(database_url: str) -> str:
    """Drop and create the PostgreSQL database named by ``database_url``; returns its name."""
    import psycopg

    if not database_url.startswith(("postgres://", "postgresql://")):
        raise ValueError("this benchmark runs on PostgreSQL: give --database-url postgres://.../NAME")
    head, _, name = database_url.rpartition("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise ValueError(
            f"give a scratch database name, not {name or 'none'}: postgres://.../pbxportal_bench"
        )
    with psycopg.connect(f"{head}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def settle_database(database_url: str) -> None:
    """After seeding: analyse the new tables and write the seed out (VACUUM ANALYZE, CHECKPOINT),
    so neither autovacuum nor a checkpoint of the seed's writes runs during the measurement."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        connection.execute("CHECKPOINT")


def server_env(*, database_url: str, port: int, workers: int, threads: int, data_dir: str) -> dict[str, str]:
    """The environment of a production-settings web process for a benchmark."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        # gthread keeps connections alive, as PBX agents do (with one thread: one request at a
        # time per worker, like sync, without a reconnect per request).
        "WEB_WORKER_CLASS": "gthread",
        "WEB_THREADS": str(threads),
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
        "PBXPORTAL_DATA_DIR": data_dir,
    }


def wait_ready(host: str, port: int, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(host, port, timeout=1)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer {path} within {timeout:.0f} s")


@contextmanager
def gunicorn_server(env: dict[str, str], *, ready_path: str = "/healthz") -> Iterator[int]:
    """The production web server (``pbxportal.config.wsgi``, the agent fast paths included) on
    ``env``'s PORT; yields the port once it answers, stops the process group after."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        # SO_REUSEPORT: the kernel spreads the keep-alive connections over the workers; with one
        # shared accept queue the busiest worker takes most of them and one core does the work.
        [
            str(gunicorn),
            "-c",
            "python:pbxportal.ops.gunicorn",
            "--reuse-port",
            "pbxportal.config.wsgi:application",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    port = int(env["PORT"])
    try:
        wait_ready("127.0.0.1", port, ready_path, 30)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def repeated(runs: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``measure`` run ``runs`` times back to back on the same server: every run's figures, and
    the median of each rate and latency figure over the runs (one noisy window on a shared
    machine neither makes nor breaks the result, and all of them are shown)."""
    windows = [measure() for _ in range(max(runs, 1))]
    return {
        "median": {
            "achieved_per_s": statistics.median(w["achieved_per_s"] for w in windows),
            "latency_ms": {
                key: statistics.median(w["latency_ms"][key] for w in windows)
                for key in windows[0]["latency_ms"]
            },
        },
        "runs": windows,
    }
