"""``pbxportal bench import``: the path users take, measured (issue 12; docs/benchmarks.md).

On a scratch PostgreSQL database (dropped, created, migrated and seeded with one PBX on the
CLASSOUND flat fee), a generated portal CSV of N records of one month is imported by the real
command (``pbxportal import-cdrs`` in a subprocess): records stored and rated per second, the
subprocess's peak RSS, and the ratio to the floor, a ``COPY`` of the same file into an unindexed
table of text columns. Then ``--files`` files of ``--file-cdrs`` records each, one after the
other, into another month: the time of the 1st and the last (the k-th file's cost must not grow
with the month).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Say = Callable[[str], None]

_PREFIXES = ("+39061", "+39021", "+39347", "+39333", "+44207", "+49301", "+3314", "+1212")


def generate_portal_csv(
    path: Path, *, serial: str, count: int, start: datetime, seed: int, prefix: str, days: float = 25
) -> None:
    """``count`` answered outbound calls of one PBX in start order over ``days`` from ``start``."""
    rng = random.Random(seed)
    # A PBX's calls go to a bounded set of destinations: 20,000 distinct numbers (the same set
    # in every file), so number parsing is paid per distinct number as in real traffic.
    pool = random.Random(0)
    destinations = [pool.choice(_PREFIXES) + str(pool.randrange(1_000_000, 9_999_999)) for _ in range(20_000)]
    step = days * 86400 / max(count, 1)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("call_id,pbx,start,caller,callee,billsec,kind\n")
        for n in range(count):
            at = start + timedelta(seconds=int(n * step))
            callee = rng.choice(destinations)
            billsec = rng.randrange(1, 900)
            handle.write(f"{prefix}{n},{serial},{at.isoformat()},+390612345678,{callee},{billsec},voice\n")


def _seed(env: dict[str, str]) -> str:
    from pbxportal.bench.voice import SEED_SCRIPT

    script = "import django; django.setup()\n" + SEED_SCRIPT + "\nprint(json.dumps({'serial': pbx.serial}))\n"
    seeded = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True
    )
    return str(json.loads(seeded.stdout.strip().splitlines()[-1])["serial"])


def _import(path: Path, env: dict[str, str]) -> tuple[float, int, str, float, float]:
    """Run the real command; (seconds, peak RSS in bytes of that child, its summary line, its CPU
    seconds: user + system, the CPU seconds of its PostgreSQL backend). The CPU figures tell the
    work done from the waiting on a loaded machine."""
    command = [str(Path(sys.executable).with_name("pbxportal")), "import-cdrs", str(path), "--format", "csv"]
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out_file, stderr=err_file, text=True)
        watch = _BackendCpu(env["DATABASE_URL"])
        watch.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        watch.stop()
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"import-cdrs failed: {err[-2000:]}")
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    return seconds, usage.ru_maxrss * 1024, summary, usage.ru_utime + usage.ru_stime, watch.seconds()


class _BackendCpu(threading.Thread):
    """CPU seconds of the PostgreSQL backends serving the import (the scratch database has no
    other client), read from ``/proc/PID/stat`` every 0.1 s: the server's share of the work,
    whatever the machine's load. WAL writer and checkpointer are not counted. 0 where
    ``/proc`` of the server is not readable (another host or user)."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.done = threading.Event()
        self.last: dict[int, float] = {}

    def run(self) -> None:
        import psycopg

        tick = os.sysconf("SC_CLK_TCK")
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            while not self.done.is_set():
                rows = connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                ).fetchall()
                for (pid,) in rows:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self.last[pid] = (int(fields[11]) + int(fields[12])) / tick
                self.done.wait(0.1)

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=5)

    def seconds(self) -> float:
        return sum(self.last.values())


def _copy_floor(database_url: str, path: Path) -> float:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_copy_floor")
        connection.execute(
            "CREATE TABLE bench_copy_floor (call_id text, pbx text, start text, caller text,"
            " callee text, billsec text, kind text)"
        )
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            open(path, "rb") as handle,
            cursor.copy("COPY bench_copy_floor FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            for block in iter(lambda: handle.read(1 << 20), b""):
                copy.write(block)
        seconds = time.perf_counter() - started
        connection.execute("DROP TABLE bench_copy_floor")
    return seconds


def bench_import(
    *, database_url: str, cdrs: int, files: int, file_cdrs: int, directory: Path | None, say: Say
) -> dict[str, Any]:
    from pbxportal.bench.loadgen import scratch_database, settle_database

    name = scratch_database(database_url)
    say(f"scratch database {name}: migrate, seed")
    workdir = directory or Path(tempfile.mkdtemp(prefix="pbxportal-bench-import-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
        "PBXPORTAL_DATA_DIR": str(workdir / "data"),
    }
    env.pop("PBXPORTAL_IMPORT_KILL_AT", None)
    serial = _seed(env)
    settle_database(database_url)
    # The seed orders the voice trunk today: the big file is this month, the files the next.
    now = datetime.now(UTC)
    first = datetime(now.year, now.month, 2, tzinfo=UTC)
    big = workdir / f"cdrs-{cdrs}.csv"
    say(f"generate {cdrs} records: {big}")
    generate_portal_csv(big, serial=serial, count=cdrs, start=first, seed=1, prefix="big-")
    floor = _copy_floor(database_url, big)
    say(f"COPY floor (unindexed table): {floor:.2f} s")
    seconds, rss, summary, cpu, backend_cpu = _import(big, env)
    say(summary)
    say(
        f"import-cdrs {cdrs}: {seconds:.2f} s, {cdrs / seconds:,.0f} rec/s, peak RSS {rss / 2**20:.0f} MiB,"
        f" CPU {cpu:.2f} s, PostgreSQL backend CPU {backend_cpu:.2f} s"
    )
    other = first + timedelta(days=32)
    other = datetime(other.year, other.month, 1, tzinfo=UTC)
    times = []
    per_file = 25 * 86400 / files
    for k in range(files):
        path = workdir / f"file-{k + 1}.csv"
        generate_portal_csv(
            path,
            serial=serial,
            count=file_cdrs,
            start=other + timedelta(days=1, seconds=int(k * per_file)),
            seed=100 + k,
            prefix=f"f{k}-",
            days=per_file / 86400,
        )
        elapsed, _, _, _, _ = _import(path, env)
        times.append(elapsed)
        say(f"file {k + 1}/{files} of {file_cdrs}: {elapsed:.2f} s")
    return {
        "cdrs": cdrs,
        "seconds": round(seconds, 2),
        "records_per_second": round(cdrs / seconds),
        "peak_rss_mib": round(rss / 2**20),
        "cpu_seconds": round(cpu, 2),
        "backend_cpu_seconds": round(backend_cpu, 2),
        "copy_floor_seconds": round(floor, 2),
        "ratio_to_copy_floor": round(seconds / floor, 1),
        "files": files,
        "file_cdrs": file_cdrs,
        "first_file_seconds": round(times[0], 2) if times else None,
        "last_file_seconds": round(times[-1], 2) if times else None,
        "last_to_first": round(times[-1] / times[0], 2) if times else None,
        "summary": summary,
    }


def main_import(args: Any, say: Say) -> int:
    result = bench_import(
        database_url=args.database_url,
        cdrs=args.cdrs,
        files=args.files,
        file_cdrs=args.file_cdrs or max(args.cdrs // 10, 1),
        directory=Path(args.dir) if args.dir else None,
        say=say,
    )
    print(json.dumps(result, indent=2))
    return 0
