"""The one source of settings: environment variables prefixed ``ADREF_`` (or a ``.env`` file).

Nothing else in adref reads ``os.environ`` for configuration. Every field is documented in the
README (a test checks it), so a setting that exists is a setting a user can find.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Calls to action as Korean and English ads write them (ADREF_CTA_PHRASES replaces the list).
CTA_PHRASES = (
    "지금 구매",
    "구매하기",
    "구매하세요",
    "주문하기",
    "주문하세요",
    "지금 바로",
    "다운로드",
    "설치하기",
    "자세히 보기",
    "더 알아보기",
    "검색하세요",
    "검색창에",
    "방문하세요",
    "만나보세요",
    "신청하기",
    "신청하세요",
    "예약하기",
    "가입하기",
    "바로가기",
    "buy now",
    "shop now",
    "order now",
    "download",
    "install",
    "learn more",
    "sign up",
    "subscribe",
    "book now",
    "visit",
    "get it",
    "try it",
    "call now",
    "apply now",
    "available now",
    "find out more",
    "search",
)


def _default_home() -> Path:
    return Path.home() / ".adref"


@lru_cache(maxsize=64)
def resolved(path: Path) -> Path:
    """An absolute path with links followed, remembered: every task's cache key and every
    stage reads these, and resolving walks the path one ``lstat`` per part."""
    return path.expanduser().resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ADREF_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Where things live
    home: Path = Field(default_factory=_default_home, description="Root folder for all adref data.")
    warehouse_dir: Path | None = Field(
        default=None,
        description="Warehouse root (catalog, Parquet data, media). Default: HOME/warehouse.",
    )

    warehouse_catalog: str | None = Field(
        default=None,
        description="Warehouse catalog: `postgres:<libpq keywords>` (e.g. `postgres:host=db "
        "dbname=adref user=adref`; the password from PGPASSWORD or ~/.pgpass, never here) for "
        "a catalog shared by several machines. Default: the SQLite file WAREHOUSE_DIR/catalog.sqlite.",
    )
    warehouse_data_path: str | None = Field(
        default=None,
        description="Where the warehouse's Parquet files live: `s3://bucket/prefix/` for object "
        "storage. Default: WAREHOUSE_DIR/data/.",
    )
    results_path: str | None = Field(
        default=None,
        description="Where cached stage results go: `s3://bucket/prefix/` (through the ADREF_S3_* "
        "settings) so a run retried on another machine reuses the stages it finished. "
        "Default: PREFECT_HOME/storage on each machine.",
    )
    media_path: str | None = Field(
        default=None,
        description="Where keyframes and playable copies go: `s3://bucket/prefix/` (through the "
        "ADREF_S3_* settings) so every machine's viewer, exports and re-analyses see every "
        "worker's media. Default: WAREHOUSE_DIR/media/ on each machine.",
    )
    s3_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "ADREF_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"
        ),
        description="S3-compatible endpoint URL, e.g. `http://minio:9000` (or AWS_ENDPOINT_URL); "
        "AWS's own if unset.",
    )
    s3_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("ADREF_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="The bucket's region (or AWS_REGION / AWS_DEFAULT_REGION).",
    )
    s3_access_key_id: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        description="S3 access key id (or AWS_ACCESS_KEY_ID).",
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        description="S3 secret key (or AWS_SECRET_ACCESS_KEY).",
    )
    s3_session_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_S3_SESSION_TOKEN", "AWS_SESSION_TOKEN"),
        description="S3 session token for temporary credentials (or AWS_SESSION_TOKEN).",
    )

    # Input limits
    max_duration_s: float = Field(
        default=1800.0, gt=0, description="Longest video accepted, seconds."
    )
    max_filesize_mb: float = Field(
        default=2048.0, gt=0, description="Largest download accepted, MB."
    )
    download_timeout_s: float = Field(
        default=15.0, gt=0, description="Seconds a download may wait for data before it fails."
    )
    allow_private_urls: bool = Field(
        default=False,
        description="Fetch URLs whose host is a private, loopback or link-local address "
        "(an intranet media server); refused by default.",
    )
    keep_video: bool = Field(
        default=True, description="Keep a browser-playable copy of each video in the warehouse."
    )

    # Detect
    detector: Literal["adaptive", "content"] = Field(
        default="adaptive", description="PySceneDetect detector for hard cuts."
    )
    adaptive_threshold: float = Field(default=3.0, gt=0, description="AdaptiveDetector threshold.")
    content_threshold: float = Field(default=27.0, gt=0, description="ContentDetector threshold.")
    fade_threshold: float = Field(
        default=12.0,
        ge=0,
        description="Mean brightness (0-255) below which a frame counts as black.",
    )
    min_shot_s: float = Field(default=0.5, ge=0, description="Shortest shot, seconds.")
    thumbnail_width: int = Field(default=480, ge=64, le=1920, description="Keyframe width, pixels.")

    # Text (on-screen text, OCR)
    ocr_languages: str = Field(
        default="kor+eng",
        pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$",
        description="Tesseract languages read on screen, joined by '+' (installed traineddata).",
    )
    ocr_min_confidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Confidence (0-1) under which a line read on screen is dropped as noise.",
    )
    tessdata_dir: Path | None = Field(
        default=None,
        description="Folder of Tesseract's traineddata files; Debian's when unset.",
    )

    # Speech (the voice-over, transcribed)
    speech_engine: Literal["none", "openai", "gemini", "local"] = Field(
        default="none",
        description="Transcription engine: none (the step is skipped), openai, gemini or local.",
    )
    speech_model: str | None = Field(
        default=None,
        description="The engine's model (openai: whisper-1; gemini: gemini-2.5-flash; local: "
        "the model folder's name) when unset.",
    )
    speech_model_dir: Path | None = Field(
        default=None,
        description="Folder of a CTranslate2 Whisper model for the local engine (never "
        "downloaded at run time).",
    )
    speech_language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="Language spoken (ISO 639-1, e.g. ko); detected by the engine when unset.",
    )

    # Group
    granularity: int = Field(
        default=5,
        ge=1,
        le=10,
        description="Scene grouping: 1 coarsest (fewest groups) to 10 finest.",
    )
    max_analysis_images: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Most images sent to a model per video: contact sheets, or frames in frames mode.",
    )

    # Analyse
    provider: str = Field(
        default="local", description="Analyser, or a comma-separated fallback chain."
    )
    model: str | None = Field(
        default=None, description="Model name for the provider (its default if unset)."
    )
    categories_file: Path | None = Field(
        default=None,
        description="JSON file replacing the genre and/or expression-format lists.",
    )
    output_language: Literal["ko", "en"] = Field(
        default="ko", description="Language of the analysis text."
    )
    cta_phrases: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(CTA_PHRASES),
        description="Call-to-action phrases the local analyser looks for on screen, "
        "comma-separated (any case and spacing).",
    )
    prompt_text_tokens: int = Field(
        default=600,
        ge=0,
        le=20_000,
        description="Most tokens of on-screen text a model prompt carries (0: none).",
    )
    prompt_speech_tokens: int = Field(
        default=600,
        ge=0,
        le=20_000,
        description="Most tokens of voice-over transcript a model prompt carries (0: none).",
    )

    # Model providers: keys (the vendors' usual variable names work too), endpoints, limits
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="OpenAI key (or OPENAI_API_KEY).",
    )
    openai_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (a gateway); the SDK's default if unset.",
    )
    factchat_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_FACTCHAT_API_KEY", "FACTCHAT_API_KEY"),
        description="FactChat gateway key (or FACTCHAT_API_KEY), used by the `factchat` provider.",
    )
    factchat_base_url: str = Field(
        default="https://factchat-cloud.mindlogic.ai/v1/api/openai",
        description="FactChat's OpenAI-compatible endpoint.",
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
        description="Anthropic key (or ANTHROPIC_API_KEY).",
    )
    anthropic_base_url: str | None = Field(
        default=None, description="Anthropic endpoint; the SDK's default if unset."
    )
    gemini_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"),
        description="Gemini key (or GEMINI_API_KEY / GOOGLE_API_KEY).",
    )
    gemini_base_url: str | None = Field(
        default=None, description="Gemini endpoint; the SDK's default if unset."
    )
    provider_timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds one model call may take before it is abandoned."
    )
    provider_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries of a model call after 429/5xx/timeouts, before falling back.",
    )
    provider_retry_cap_s: float = Field(
        default=60.0,
        gt=0,
        description="Longest wait for one retry (Retry-After is honoured up to this).",
    )

    provider_concurrency: int = Field(
        default=2,
        ge=1,
        description="Model calls in flight per provider across all flow runs (a Prefect limit).",
    )
    image_mode: Literal["frames", "contact_sheet"] = Field(
        default="contact_sheet",
        description="Send one image per scene group, or tile them into contact sheets (fewer tokens).",
    )
    max_cost_per_run_usd: float = Field(
        default=1.0, ge=0, description="Model spend allowed per flow run, USD; 0 allows none."
    )
    max_cost_per_day_usd: float = Field(
        default=10.0, ge=0, description="Model spend allowed per UTC day, USD; 0 allows none."
    )
    prices_file: Path | None = Field(
        default=None,
        description="JSON file overriding the per-model prices used for estimates and costs.",
    )

    # Orchestration
    task_retries: int = Field(
        default=2, ge=0, le=10, description="Retries for tasks a retry can help."
    )
    retry_delay_s: float = Field(
        default=2.0, ge=0, description="First retry delay; doubles each retry."
    )
    workspace_keep_days: float = Field(
        default=7.0,
        ge=0,
        description="`adref clean` removes failed-run workspaces older than this.",
    )
    cache_keep_days: float = Field(
        default=30.0,
        ge=0,
        description="`adref clean` removes cached task results and downloads unused for this long.",
    )
    cache_max_gb: float = Field(
        default=20.0,
        ge=0,
        description="`adref clean` then removes the least recently used cache entries until "
        "the caches together fit in this many GB.",
    )
    viewer_url: str = Field(
        default="http://127.0.0.1:5006",
        description="Viewer address used in summaries and artifacts.",
    )
    viewer_port: int = Field(
        default=5006, ge=1, le=65535, description="Port `adref viewer` and `adref up` serve it on."
    )
    viewer_address: str = Field(
        default="127.0.0.1",
        description="Address the viewer listens on; beyond loopback it needs authentication.",
    )
    viewer_password: SecretStr | None = Field(
        default=None,
        description="Viewer basic auth: one password, any user name (the name is the user).",
    )
    viewer_users_file: Path | None = Field(
        default=None,
        description='Viewer basic auth: a JSON file of {"user": "password"}.',
    )
    viewer_cookie_secret: SecretStr | None = Field(
        default=None,
        description="Signs the viewer's login cookies; random per start if unset "
        "(logins then end with a restart).",
    )
    viewer_oauth_provider: str | None = Field(
        default=None,
        description="Panel OAuth provider for the viewer (github, google, azure, okta, "
        "auth0, generic, ...).",
    )
    viewer_oauth_key: str | None = Field(
        default=None, description="The OAuth client id (Panel's oauth_key)."
    )
    viewer_oauth_secret: SecretStr | None = Field(
        default=None, description="The OAuth client secret (Panel's oauth_secret)."
    )
    viewer_oauth_redirect_uri: str | None = Field(
        default=None, description="The OAuth redirect URI, when not the viewer's own address."
    )
    viewer_oauth_extra_params: dict[str, str] = Field(
        default_factory=dict,
        description="Extra OAuth parameters as JSON (Panel's oauth_extra_params), e.g. "
        '{"tenant": "..."}.',
    )
    viewer_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra host:port values browsers may open the viewer at, comma-separated "
        "(the viewer URL's and loopback are always allowed).",
    )
    work_pool: str = Field(default="adref", description="Prefect work pool the deployments run on.")
    max_concurrent_videos: int = Field(
        default=5,
        ge=1,
        description="Videos analysed at once by the work pool (set when `adref deploy` creates "
        "it; change it later in the Prefect UI).",
    )
    heartbeat_s: int = Field(
        default=60,
        ge=30,
        description="Seconds between the heartbeats of the runs `adref up`'s worker starts "
        "(Prefect's minimum is 30).",
    )
    zombie_after_s: int = Field(
        default=180,
        ge=60,
        description="A deployment run with no heartbeat for this long is marked Crashed (the "
        "automation `adref deploy` creates; change it later in the Prefect UI).",
    )
    alert_webhook_url: SecretStr | None = Field(
        default=None,
        description="Webhook (Slack, Mattermost, any URL taking a JSON POST) that the automation "
        "`adref deploy` creates notifies when a run fails or crashes; unset: no alerts.",
    )
    server_port: int = Field(
        default=4200,
        ge=1,
        le=65535,
        description="Port of the Prefect server `adref up` (or the CLI's background server) "
        "starts; a free one when it is taken.",
    )
    server: Literal["background", "embedded"] = Field(
        default="background",
        description="Prefect server for CLI runs when none is running: `background` starts one "
        "that outlives the command and stops after ADREF_SERVER_IDLE_S; `embedded` starts a "
        "temporary one per command.",
    )
    server_idle_s: float = Field(
        default=1800.0,
        gt=0,
        description="Seconds without a running flow run or an adref command using it after "
        "which the CLI's background Prefect server stops itself.",
    )
    input_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders a deployment run may read video files from, comma-separated "
        "(default HOME/inbox). URLs are always accepted; the CLI reads any file.",
    )

    # Notion (optional): analyses and moodboards published to a database
    notion_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_NOTION_API_KEY", "NOTION_API_KEY"),
        description="Notion integration token (or NOTION_API_KEY); unset: Notion is off.",
    )
    notion_database_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ADREF_NOTION_DATABASE_ID", "NOTION_DATABASE_ID"),
        description="The Notion database pages are published to (or NOTION_DATABASE_ID).",
    )
    notion_secret_block: str = Field(
        default="adref-notion-api-key",
        description="Prefect Secret block holding the Notion token when no variable sets it.",
    )
    notion_base_url: str = Field(
        default="https://api.notion.com",
        description="Notion API root (a test server's address in tests).",
    )
    notion_publish: bool = Field(
        default=False,
        description="Publish every analyze-video and reanalyze-video run to Notion.",
    )
    notion_requests_per_s: float = Field(
        default=3.0, gt=0, le=50, description="Requests per second sent to Notion (its limit: ~3)."
    )
    notion_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        description="Retries of a Notion request after 429, 5xx or a timeout.",
    )

    # Batch ingestion
    watchlist: Path | None = Field(
        default=None,
        description="The watch list `adref ingest` and the `ingest` deployment read (YAML). "
        "Default: HOME/watchlist.yaml.",
    )
    ingest_max_new_runs: int = Field(
        default=20,
        ge=0,
        description="Most analysis runs one ingest starts; the rest wait for the next.",
    )
    ingest_max_per_source: int = Field(
        default=10,
        ge=1,
        description="Most new videos one ingest takes from one watch-list source (its newest).",
    )
    ingest_settle_s: float = Field(
        default=2.0,
        ge=0,
        description="Seconds between two looks at a watched folder; a file whose size or time "
        "changed meanwhile is still being written and waits for the next ingest.",
    )

    @field_validator("input_dirs", "viewer_origins", "cta_phrases", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("warehouse_catalog")
    @classmethod
    def _catalog_without_password(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix("ducklake:")
        if not value.startswith("postgres:"):
            raise ValueError("ADREF_WAREHOUSE_CATALOG must start with `postgres:`")
        if "password" in value.lower() or re.search(r"://[^/@]*:[^/@]*@", value):
            raise ValueError(
                "ADREF_WAREHOUSE_CATALOG must not hold a password: set PGPASSWORD or use ~/.pgpass"
            )
        return value

    @field_validator("warehouse_data_path", "results_path", "media_path")
    @classmethod
    def _data_path_folder(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.startswith("s3://") or len(value.removeprefix("s3://").strip("/")) == 0:
            raise ValueError(f"ADREF_{(info.field_name or '').upper()} must be s3://bucket/prefix/")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _zombies_after_heartbeats(self) -> Settings:
        if self.zombie_after_s < 2 * self.heartbeat_s:
            raise ValueError(
                f"ADREF_ZOMBIE_AFTER_S ({self.zombie_after_s}) must be at least twice "
                f"ADREF_HEARTBEAT_S ({self.heartbeat_s}), or a late heartbeat crashes a live run"
            )
        return self

    @property
    def warehouse(self) -> Path:
        return resolved(self.warehouse_dir or self.home / "warehouse")

    @property
    def work_dir(self) -> Path:
        return resolved(self.home / "work")

    @property
    def cache_dir(self) -> Path:
        return resolved(self.home / "cache")

    @property
    def prefect_home(self) -> Path:
        return resolved(self.home / "prefect")

    @property
    def watchlist_path(self) -> Path:
        return resolved(self.watchlist or self.home / "watchlist.yaml")

    @property
    def input_folders(self) -> list[Path]:
        folders = self.input_dirs or [self.home / "inbox"]
        return [resolved(folder) for folder in folders]

    def retry_delays(self) -> list[float]:
        return [self.retry_delay_s * (2**i) for i in range(self.task_retries)]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment, then call this)."""
    get_settings.cache_clear()
