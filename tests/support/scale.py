"""The scale-out parts, real and on loopback: Debian's PostgreSQL and moto's S3 server.

``Postgres`` is a private cluster (``initdb`` as the ``postgres`` user, trust auth on 127.0.0.1)
on a free port; ``S3Server`` is ``moto_server``. Each test takes its own database and its own
bucket prefix (``ScaleSetup``), so one cluster and one S3 server serve the whole session. Use the
``scale`` fixture, or the session fixtures ``postgres`` and ``s3_server`` for other setups (the
Prefect server on PostgreSQL comes next).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.support.http import unused_port

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
        moto = Path(sys.executable).with_name("moto_server")
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

    def client(self) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name=REGION,
        )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(  # type: ignore[attr-defined]
                Bucket=bucket, Prefix=prefix
            )
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def object(self, bucket: str, key: str) -> bytes:
        got = self.client().get_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
        return bytes(got["Body"].read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass(frozen=True)
class ScaleSetup:
    """One warehouse on PostgreSQL + S3: its own database and bucket prefix, and the
    environment that points adref at it (the S3 keys are a fresh random secret to look for)."""

    postgres: Postgres
    s3: S3Server
    database: str
    bucket: str
    prefix: str
    secret: str

    @property
    def data_path(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def env(self) -> dict[str, str]:
        return {
            "ADREF_WAREHOUSE_CATALOG": f"postgres:{self.postgres.conninfo(self.database)}",
            "ADREF_WAREHOUSE_DATA_PATH": self.data_path,
            "ADREF_S3_ENDPOINT": self.s3.endpoint,
            "ADREF_S3_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "adref-test-key",
            "AWS_SECRET_ACCESS_KEY": self.secret,
        }

    def objects(self) -> list[str]:
        """The keys of every object under the warehouse's prefix."""
        return self.s3.keys(self.bucket, self.prefix)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not Postgres.available():
        pytest.fail("needs Debian's postgresql package and root (see .ci/run)", pytrace=False)
    # pytest's folders are private to root; the cluster's must be the postgres user's.
    folder = Path(tempfile.mkdtemp(prefix="adref-pg-"))
    try:
        pg = Postgres.create(folder)
        try:
            yield pg
        finally:
            pg.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server.start(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()


def new_setup(postgres: Postgres, s3_server: S3Server) -> ScaleSetup:
    """A fresh database and bucket on the session's servers."""
    bucket = f"adref-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    return ScaleSetup(
        postgres=postgres,
        s3=s3_server,
        database=postgres.new_database(),
        bucket=bucket,
        prefix="warehouse/",
        secret=f"s3cret-{uuid.uuid4().hex}",
    )


@pytest.fixture
def scale(postgres: Postgres, s3_server: S3Server) -> ScaleSetup:
    return new_setup(postgres, s3_server)
