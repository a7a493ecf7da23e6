"""The scale-out parts, real and on loopback: Debian's PostgreSQL and moto's S3 server.

``Postgres`` is a private cluster (``initdb`` as the ``postgres`` user, trust auth on 127.0.0.1)
on a free port; ``S3Server`` is ``moto_server`` (from ``moto[server]``, a development
dependency). ``adref bench warehouse`` runs the warehouse on them; the tests' fixtures
(tests/support/scale.py) start them the same way.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REGION = "us-east-1"


def _as_postgres(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["su", "postgres", "-c", " ".join(f"'{a}'" for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after 30 s")


@dataclass
class Postgres:
    """A private PostgreSQL cluster on a free loopback port; ``stop`` and ``start`` at will."""

    folder: Path
    port: int

    @classmethod
    def available(cls) -> bool:
        return (PG_BIN / "initdb").is_file() and os.geteuid() == 0

    @classmethod
    def create(cls, folder: Path) -> Postgres:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres", "postgres")
        folder.chmod(0o700)
        done = _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(folder), "-U", "postgres", "--auth=trust"
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr}")
        pg = cls(folder, unused_port())
        pg.start()
        return pg

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        done = _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.folder), "-o", options,
            "-l", str(self.folder / "server.log"), "-w", "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stdout} {done.stderr}")

    def stop(self) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.folder), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        done = _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.folder), "status")
        return done.returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return done.stdout

    def dump(self, database: str) -> str:
        """The whole database as SQL text: schema and every row."""
        return subprocess.run(
            [str(PG_BIN / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             database],
            capture_output=True, text=True, timeout=120, check=True,
        ).stdout  # fmt: skip

    def new_database(self) -> str:
        name = f"adref_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def conninfo(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user=postgres"


@dataclass
class S3Server:
    """moto's standalone S3 server on a free loopback port."""

    proc: subprocess.Popen[bytes]
    port: int

    @classmethod
    def start(cls, log: Path) -> S3Server:
        port = unused_port()
        moto = moto_server()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
            )
        try:
            _wait_for_port(port, proc)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        return cls(proc, port)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_bucket(self, bucket: str) -> None:
        """A new bucket (moto's server takes an unsigned PUT, as S3 takes a signed one)."""
        request = urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def unused_port() -> int:
    """A loopback port with nothing listening (bound once by the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def moto_server() -> Path:
    return Path(sys.executable).with_name("moto_server")


def why_unavailable() -> str | None:
    """Why the loopback parts cannot start here, or None when they can."""
    if not (PG_BIN / "initdb").is_file():
        return f"no PostgreSQL 15 in {PG_BIN} (apt-get install postgresql)"
    if os.geteuid() != 0:
        return "starting PostgreSQL as the postgres user needs root"
    if not moto_server().is_file():
        return "no moto_server next to this Python (moto[server], a development dependency)"
    return None
