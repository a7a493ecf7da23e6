"""Where a warehouse's catalog and data live: the embedded default, or PostgreSQL and a bucket.

The embedded default is a SQLite catalog and a local folder of Parquet files. For several
machines the catalog is a PostgreSQL database and the data an ``s3://`` prefix; adref reaches
both through DuckDB's own extensions (postgres_scanner, httpfs), so the same DuckLake code writes
and reads either. The bucket's credentials become a DuckDB secret created in each session
(``CREATE TEMPORARY SECRET``): held in memory only, never in the catalog, the data or a line we
print. The PostgreSQL password is libpq's business (PGPASSWORD, ~/.pgpass), never in a setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
from pydantic import SecretStr

from adref.errors import WarehouseError
from adref.settings import Settings
from adref.warehouse.engine import connect_with, extension_file, sql_str

SECRET_NAME = "adref_s3"
# What a DuckDB client needs in its environment to run an attach line of an S3 warehouse.
S3_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class S3Access:
    """Reaching one bucket: the endpoint and region are plain, the keys are secrets."""

    region: str = "us-east-1"
    endpoint: str | None = None  # e.g. http://127.0.0.1:9000; AWS's own when None
    key_id: SecretStr | None = field(default=None, repr=False)
    secret: SecretStr | None = field(default=None, repr=False)
    session_token: SecretStr | None = field(default=None, repr=False)

    def options(self) -> list[str]:
        """The secret's options that are not secret (endpoint, region, URL style, TLS)."""
        opts = [f"REGION {sql_str(self.region)}"]
        if self.endpoint:
            url = urlsplit(self.endpoint if "://" in self.endpoint else f"https://{self.endpoint}")
            opts += [
                f"ENDPOINT {sql_str(url.netloc)}",
                "URL_STYLE 'path'",
                f"USE_SSL {'true' if url.scheme == 'https' else 'false'}",
            ]
        return opts


@dataclass(frozen=True)
class Location:
    """A warehouse's catalog (``sqlite:<file>`` or ``postgres:<conninfo>``) and data path."""

    catalog: str
    data_path: str  # ends with "/"
    s3: S3Access | None = None

    @classmethod
    def embedded(cls, root: Path) -> Location:
        return cls(catalog=f"sqlite:{root / 'catalog.sqlite'}", data_path=f"{root / 'data'}/")

    @classmethod
    def of(cls, settings: Settings, root: Path) -> Location:
        """The settings' location for a warehouse folder ``root`` (local files: locks, media)."""
        default = cls.embedded(root)
        data_path = settings.warehouse_data_path or default.data_path
        s3 = None
        if data_path.startswith("s3://"):
            s3 = S3Access(
                region=settings.s3_region,
                endpoint=settings.s3_endpoint,
                key_id=settings.s3_access_key_id,
                secret=settings.s3_secret_access_key,
                session_token=settings.s3_session_token,
            )
        return cls(
            catalog=settings.warehouse_catalog or default.catalog, data_path=data_path, s3=s3
        )

    @property
    def shared(self) -> bool:
        """A PostgreSQL catalog, reachable from other machines (no file to stat or lock)."""
        return self.catalog.startswith("postgres:")

    @property
    def remote_data(self) -> bool:
        return self.data_path.startswith("s3://")

    @property
    def sqlite_file(self) -> Path | None:
        return Path(self.catalog.removeprefix("sqlite:")) if not self.shared else None

    def extensions(self) -> tuple[Path, ...]:
        """The extension files these need, loaded in this order."""
        files = [
            extension_file("duckdb_extension_postgres_scanner", "postgres_scanner.duckdb_extension")
            if self.shared
            else extension_file(
                "duckdb_extension_sqlite_scanner", "sqlite_scanner.duckdb_extension"
            )
        ]
        if self.remote_data:
            files.append(extension_file("duckdb_extension_httpfs", "httpfs.duckdb_extension"))
        files.append(extension_file("duckdb_extension_ducklake", "ducklake.duckdb_extension"))
        return tuple(files)

    def open(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with these extensions and, for a bucket, its session secret."""
        con = connect_with(self.extensions())
        if self.s3 is not None:
            try:
                con.execute(self.secret_sql())
            except duckdb.Error:
                con.close()
                # DuckDB's message may quote the statement, keys and all: say only what failed.
                raise WarehouseError(
                    "cannot set up access to the bucket",
                    "DuckDB refused the S3 settings",
                    "check ADREF_S3_ENDPOINT and ADREF_S3_REGION",
                ) from None
        return con

    def secret_sql(self) -> str:
        """``CREATE TEMPORARY SECRET`` for the bucket, keys included: run it, never print it."""
        assert self.s3 is not None
        s3 = self.s3
        opts = s3.options()
        for name, value in (("KEY_ID", s3.key_id), ("SECRET", s3.secret)):
            if value is not None:
                opts.append(f"{name} {sql_str(value.get_secret_value())}")
        if s3.session_token is not None:
            opts.append(f"SESSION_TOKEN {sql_str(s3.session_token.get_secret_value())}")
        return self._secret(opts)

    def secret_line(self) -> str:
        """The same secret for a DuckDB shell, its keys read from the environment there."""
        assert self.s3 is not None
        keys = [f"KEY_ID getenv('{S3_ENV[0]}')", f"SECRET getenv('{S3_ENV[1]}')"]
        return self._secret([*self.s3.options(), *keys])

    def _secret(self, opts: list[str]) -> str:
        bucket = "s3://" + urlsplit(self.data_path).netloc + "/"
        opts = ["TYPE s3", *opts, f"SCOPE {sql_str(bucket)}"]
        return f"CREATE OR REPLACE TEMPORARY SECRET {SECRET_NAME} ({', '.join(opts)})"

    def attach_target(self) -> str:
        return f"ducklake:{self.catalog}"
