"""One validated settings object, read from the environment once per cold start."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ConfigurationError(RuntimeError):
    """Raised at cold start when the environment is wrong; the message names the variable."""


Name = Annotated[str, Field(min_length=3, max_length=255)]

ROUTE_CLASSES = ("render", "critique", "ingest", "reads")
DEFAULT_LIMITS = "render=50,critique=50,ingest=50,reads=100"


def parse_limits(text: str) -> dict[str, int]:
    """'render=120,reads=1200' -> {'render': 120, 'reads': 1200}; names must be route classes, counts >= 0."""
    limits: dict[str, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, _, count = part.partition("=")
        name = name.strip()
        if name not in ROUTE_CLASSES:
            raise ValueError(f"unknown route class {name!r} in rate limits; use {', '.join(ROUTE_CLASSES)}")
        if not count.strip().isdigit():
            raise ValueError(f"rate limit of {name!r} must be a whole number of requests, got {count.strip()!r}")
        limits[name] = int(count)
    return limits


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def provider_base_url(value: str) -> str:
    """OPENROUTER_BASE_URL, parsed (never prefix-tested): https, or plain http only to a literal loopback host (a
    local fake provider); no user info, no query or fragment. The Bearer key goes wherever this points."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ValueError(f"is not a valid URL: {error}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an https URL with a host")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ValueError("must not carry user info (user:password@)")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or a fragment")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError("must be an https URL (plain http only to a literal loopback host: localhost, 127.0.0.1, "
                         "[::1])")
    return value.rstrip("/")


class Settings(BaseModel):
    """Every environment variable the functions read. The README's table mirrors this class.

    A plain pydantic model over os.environ (aliases are the variable names): pydantic-settings would add
    ~20 ms to every cold start for features (dotenv, nested sources) a Lambda function has no use for.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    service: str = Field(alias="POWERTOOLS_SERVICE_NAME", pattern=r"^[a-z][a-z0-9-]{1,40}$")
    metrics_namespace: str = Field(alias="POWERTOOLS_METRICS_NAMESPACE", min_length=1, max_length=255)
    stage: str = Field("dev", alias="SGD_STAGE", pattern=r"^[a-z][a-z0-9-]{0,15}$")
    region: str = Field("us-east-1", alias="AWS_REGION")
    assets_bucket: Name = Field(alias="SGD_ASSETS_BUCKET")
    cache_table: Name = Field(alias="SGD_CACHE_TABLE")
    idempotency_table: Name = Field(alias="SGD_IDEMPOTENCY_TABLE")
    jobs_table: Name = Field(alias="SGD_JOBS_TABLE")
    canon_table: Name = Field(alias="SGD_CANON_TABLE")
    usage_table: Name = Field(alias="SGD_USAGE_TABLE")
    assets_table: Name = Field(alias="SGD_ASSETS_TABLE")
    org_claim: str = Field("org", alias="SGD_ORG_CLAIM", min_length=1)
    presign_ttl_seconds: int = Field(900, alias="SGD_PRESIGN_TTL_SECONDS", ge=60, le=43_200)
    max_upload_bytes: int = Field(25 * 1024 * 1024, alias="SGD_MAX_UPLOAD_BYTES", ge=1024)
    qdrant_url: str = Field("", alias="QDRANT_URL")
    qdrant_path: str = Field("/tmp/sgd-qdrant", alias="SGD_QDRANT_PATH")  # noqa: S108 - Lambda's only writable disk
    qdrant_api_key_secret_arn: str = Field("", alias="QDRANT_API_KEY_SECRET_ARN")
    openrouter_api_key_secret_arn: str = Field("", alias="OPENROUTER_API_KEY_SECRET_ARN")
    openrouter_api_key: str = Field("", alias="OPENROUTER_API_KEY", repr=False)
    openrouter_base_url: str = Field("https://openrouter.ai/api/v1", alias="OPENROUTER_BASE_URL")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="POWERTOOLS_LOG_LEVEL")
    # Outbound fetches (POST /ingest URLs, render references, webhooks) go through sgd.net.outbound's SSRF guard.
    fetch_max_bytes: int = Field(10 * 1024 * 1024, alias="SGD_FETCH_MAX_BYTES", ge=1024)
    fetch_timeout_seconds: float = Field(10.0, alias="SGD_FETCH_TIMEOUT_SECONDS", gt=0, le=60)
    fetch_allowed_domains: str = Field("", alias="SGD_FETCH_ALLOWED_DOMAINS",
                                       description="Comma-separated; empty allows every public host")
    outbound_allow_loopback: bool = Field(False, alias="SGD_OUTBOUND_ALLOW_LOOPBACK",
                                          description="Local runtime and tests only; refused on stage prod")
    render_jobs_queue_url: str = Field("", alias="SGD_RENDER_JOBS_QUEUE_URL")
    webhook_secret: str = Field("", alias="SGD_WEBHOOK_SECRET", repr=False)
    webhook_secret_arn: str = Field("", alias="SGD_WEBHOOK_SECRET_ARN")
    embeddings: Literal["sparse", "bedrock", "openai"] = Field("sparse", alias="SGD_EMBEDDINGS")
    embeddings_model: str = Field("", alias="SGD_EMBEDDINGS_MODEL")
    embeddings_url: str = Field("", alias="SGD_EMBEDDINGS_URL")
    embeddings_api_key_secret_arn: str = Field("", alias="SGD_EMBEDDINGS_API_KEY_SECRET_ARN")
    # Per-org request limits per route class (requests per window), unless the org has its own (sgd.ratelimit).
    rate_limits: str = Field(DEFAULT_LIMITS, alias="SGD_RATE_LIMITS",
                             description="render=N,critique=N,ingest=N,reads=N requests per window")
    rate_limit_window_seconds: int = Field(10, alias="SGD_RATE_LIMIT_WINDOW_SECONDS", ge=1, le=3600)
    rate_limit_burst_share: float = Field(0.25, alias="SGD_RATE_LIMIT_BURST_SHARE", gt=0, le=1,
                                          description="the share of a window's limit an org may spend at once")

    @field_validator("rate_limits")
    @classmethod
    def _rate_limits_parse(cls, value: str) -> str:
        parse_limits(value)  # raises ValueError naming the bad part
        return value

    @field_validator("qdrant_url")
    @classmethod
    def _qdrant_url_is_http(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be empty (embedded local mode) or an http(s) URL")
        return value

    @field_validator("openrouter_base_url")
    @classmethod
    def _provider_url_is_https(cls, value: str) -> str:
        return provider_base_url(value)

    @model_validator(mode="after")
    def _loopback_never_in_prod(self) -> Settings:
        if self.outbound_allow_loopback and self.stage == "prod":
            raise ValueError("SGD_OUTBOUND_ALLOW_LOOPBACK must not be set on stage prod")
        if self.stage == "prod" and not self.openrouter_base_url.startswith("https://"):
            raise ValueError("OPENROUTER_BASE_URL must be https on stage prod (plain http is for a local fake only)")
        return self

    @property
    def allowed_fetch_domains(self) -> tuple[str, ...]:
        return tuple(part.strip().lower() for part in self.fetch_allowed_domains.split(",") if part.strip())

    @classmethod
    def from_environment(cls) -> Settings:
        return cls.model_validate(dict(os.environ))

    @property
    def model_engine(self) -> Literal["openrouter", "local"]:
        """What serves model calls in this process, as /healthz and /usage report it."""
        return "openrouter" if self.model_key_configured else "local"

    @property
    def model_key_configured(self) -> bool:
        """True when a provider key is configured: then provider failures are errors, never local output."""
        return bool(self.openrouter_api_key or self.openrouter_api_key_secret_arn)


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        variable = ".".join(str(part) for part in item["loc"]) or "environment"
        problems.append(f"{variable}: {item['msg']}")
    return "; ".join(problems)


def load_settings() -> Settings:
    """The settings of this process, validated from the environment (the composition root calls it once, at cold
    start); ConfigurationError names every misconfigured variable."""
    try:
        return Settings.from_environment()
    except ValidationError as error:
        raise ConfigurationError(f"invalid configuration: {_describe(error)}") from error
