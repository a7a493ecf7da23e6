"""The scale-out parts as pytest fixtures: Debian's PostgreSQL and moto's S3 server, on loopback.

The servers themselves (``Postgres``, ``S3Server``) are ``adref.bench.loopback``'s, which
``adref bench warehouse`` starts too. Each test takes its own database and its own bucket prefix
(``ScaleSetup``), so one cluster and one S3 server serve the whole session. Use the ``scale``
fixture, or the session fixtures ``postgres`` and ``s3_server`` for other setups (the Prefect
server on PostgreSQL comes next).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from adref.bench import loopback
from adref.bench.loopback import PG_BIN, REGION, Postgres

__all__ = [
    "HALF_VIDEOS",
    "REGION",
    "Postgres",
    "S3Server",
    "ScaleSetup",
    "SnapshotHold",
    "new_setup",
    "postgres",
    "s3_server",
]

# Parts of a video without the rest: a reader must never see one (one transaction per video).
HALF_VIDEOS = """
select
  (select count(*) from videos v
    where v.shot_count <> (select count(*) from shots s where s.video_id = v.video_id)
       or not exists (select 1 from analyses a where a.video_id = v.video_id))
  + (select count(*) from shots s where s.video_id not in (select video_id from videos))
  + (select count(*) from analyses a where a.video_id not in (select video_id from videos))
"""


class S3Server(loopback.S3Server):
    """moto's standalone S3 server on a free loopback port, and a boto3 client to look into it."""

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


class SnapshotHold:
    """A PostgreSQL session holding DuckLake's snapshot table against writes (readers go on):
    a writer that has uploaded its Parquet files waits there to commit, a named point.

    The constructor returns once the lock is granted: psql reads its input when it likes, and a
    run started before that could commit first and leave a later writer waiting at the point."""

    def __init__(self, postgres: Postgres, database: str, *, timeout_s: float = 60.0) -> None:
        self.postgres, self.database = postgres, database
        self.session = subprocess.Popen(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-q"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.session.stdin is not None
        self.session.stdin.write("BEGIN; LOCK TABLE ducklake_snapshot IN EXCLUSIVE MODE;\n")
        self.session.stdin.flush()
        deadline = time.monotonic() + timeout_s
        while not self.held():
            if time.monotonic() > deadline:
                self.release()
                raise TimeoutError(f"psql did not lock ducklake_snapshot in {timeout_s:.0f} s")
            time.sleep(0.05)

    def held(self) -> bool:
        assert self.session.poll() is None, "psql could not lock the table"
        return self._locks("granted and mode = 'ExclusiveLock'") != []

    def waiting(self) -> list[str]:
        """The backends waiting for the table: writers about to commit."""
        return self._locks("not granted")

    def _locks(self, where: str) -> list[str]:
        return self.postgres.psql(
            f"select pid from pg_locks where relation = 'ducklake_snapshot'::regclass and {where}",
            self.database,
        ).split()

    def release(self) -> None:
        if self.session.poll() is None:
            assert self.session.stdin is not None
            self.session.stdin.write("ROLLBACK;\n\\q\n")
            self.session.stdin.close()
            self.session.wait(timeout=60)
