"""The composition root: each function's object graph, built from Settings once per cold start.

    route (sgd.http.routes) -> service -> repository (sgd.repositories) -> adapter (sgd.adapters)

Nothing else in the package reads the environment, opens a client or holds a process-wide service: this module
builds the adapters from Settings, the repositories over them, the services over those, and each function's app
and Lambda handler over its services. Tests build the same graphs with in-memory fakes (tests/fakes) or the
local runtime's moto-backed clients by passing their own Adapters.

Building is cheap and loads nothing heavy: boto3 clients, the OpenRouter client, Qdrant and the ingest pipeline
are made on first use (Lazy), so routes that never need them do not pay for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sgd.adapters.aws import AwsClients, ClientSource
from sgd.adapters.clock import Clock, SystemClock
from sgd.adapters.secrets import SecretRef, SecretsManagerSecrets
from sgd.adapters.storage import ObjectStorage, S3ObjectStorage
from sgd.adapters.tables import DynamoItemTable, ItemTable
from sgd.http.lambda_entry import LambdaHandler, lambda_entry
from sgd.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from sgd.brand.assets import BrandAssets
    from sgd.canon.service import CanonService
    from sgd.critique.policy import CritiquePolicy
    from sgd.critique.service import CritiqueService
    from sgd.ingest.deliveries import UploadDeliveries
    from sgd.ingest.service import IngestService
    from sgd.model_gateway.budget import UsageAccounting
    from sgd.model_gateway.local import CanonExtractor
    from sgd.model_gateway.policy import GatewayPolicy
    from sgd.model_gateway.port import ModelGateway
    from sgd.render.pipeline import CriticFactory
    from sgd.render.service import RenderService
    from sgd.repositories.assets import AssetRecords

T = TypeVar("T")


class Lazy(Generic[T]):
    """A collaborator made on first use (once, whichever thread asks first) and reused while the container is warm."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._make()
        return self._value


@dataclass(frozen=True)
class Adapters:
    """The outside world as the services see it."""

    clients: ClientSource
    storage: ObjectStorage
    assets_table: ItemTable
    cache_table: ItemTable
    canon_table: ItemTable
    jobs_table: ItemTable
    usage_table: ItemTable
    clock: Clock
    secrets: SecretsManagerSecrets

    @classmethod
    def from_settings(cls, settings: Settings, clients: ClientSource | None = None) -> Adapters:
        """AWS as configured (boto3 honours AWS_ENDPOINT_URL: the local runtime's moto server). `clients` replaces
        the process's boto3 clients, e.g. with the local runtime's."""
        source = clients if clients is not None else AwsClients(settings.region).client
        return cls(clients=source, storage=S3ObjectStorage(settings.assets_bucket, source),
                   assets_table=DynamoItemTable(settings.assets_table, source),
                   cache_table=DynamoItemTable(settings.cache_table, source),
                   canon_table=DynamoItemTable(settings.canon_table, source),
                   jobs_table=DynamoItemTable(settings.jobs_table, source),
                   usage_table=DynamoItemTable(settings.usage_table, source),
                   clock=SystemClock(), secrets=SecretsManagerSecrets(source))

    @classmethod
    def in_memory(cls, clock: Clock | None = None) -> Adapters:
        """Every table and the bucket in memory; nothing reaches AWS (asking for a boto3 client is an error)."""
        from sgd.adapters.memory import MemoryStorage, MemoryTable

        def no_aws(service: str) -> object:
            raise RuntimeError(f"in-memory adapters were asked for a real {service} client")

        return cls(clients=no_aws, storage=MemoryStorage(), assets_table=MemoryTable("AssetsTable"),
                   cache_table=MemoryTable("CacheTable"), canon_table=MemoryTable("CanonTable"),
                   jobs_table=MemoryTable("JobsTable"), usage_table=MemoryTable("UsageTable"),
                   clock=clock or SystemClock(), secrets=SecretsManagerSecrets(no_aws))


@dataclass(frozen=True)
class Function:
    """One Lambda function: its app (the HTTP routes) and the handler Lambda calls."""

    app: FastAPI
    handler: LambdaHandler


# -- shared pieces ------------------------------------------------------------------------------------------------


def usage_accounting(adapters: Adapters, policy: GatewayPolicy) -> UsageAccounting:
    from sgd.model_gateway.budget import UsageAccounting

    return UsageAccounting.over(adapters.usage_table, daily_limit_usd=policy.org_daily_budget_usd,
                                thresholds=policy.budget_thresholds, clock=adapters.clock)


def model_gateway(settings: Settings, adapters: Adapters, policy: GatewayPolicy, *,
                  accounting: UsageAccounting | None = None,
                  canon_extractor: CanonExtractor | None = None) -> Lazy[ModelGateway]:
    """The gateway, built on the first model call: with a provider key that loads httpx and the OpenRouter client,
    which reads and canon routes never need."""
    from sgd.model_gateway.build import build_gateway

    return Lazy(lambda: build_gateway(settings, policy, accounting=accounting or usage_accounting(adapters, policy),
                                      secrets=adapters.secrets, canon_extractor=canon_extractor))


def _given_or_lazy(gateway: ModelGateway | None, lazy: Callable[[], Lazy[ModelGateway]]) -> Callable[[], ModelGateway]:
    return (lambda: gateway) if gateway is not None else lazy()


def _asset_records(adapters: Adapters) -> AssetRecords:
    from sgd.repositories.assets import AssetRecords

    return AssetRecords(adapters.assets_table)


def _brand_assets(adapters: Adapters, assets: AssetRecords) -> BrandAssets:
    from sgd.brand.assets import BrandAssets

    return BrandAssets(assets, adapters.storage)


def rate_limits(settings: Settings, adapters: Adapters) -> list[tuple[type, dict[str, Any]]]:
    """The per-org rate limit middleware over the usage table, for every function's app."""
    from sgd.http.rate_limit import RateLimitMiddleware
    from sgd.ratelimit import RateLimiter, parse_limits
    from sgd.repositories.rate_limits import RateLimitCounters

    limiter = RateLimiter(RateLimitCounters(adapters.usage_table), defaults=parse_limits(settings.rate_limits),
                          window_s=settings.rate_limit_window_seconds, clock=adapters.clock,
                          burst_share=settings.rate_limit_burst_share)
    return [(RateLimitMiddleware, {"limiter": limiter, "org_claim": settings.org_claim})]


def _health(settings: Settings, policy: GatewayPolicy) -> Any:
    from sgd.http.routes.health import HealthInfo

    return HealthInfo(service=settings.service, stage=settings.stage, model_engine=settings.model_engine,
                      model_policy_version=policy.version)


# -- the canon function: /canon/*, /usage, /healthz ---------------------------------------------------------------


def canon_service(settings: Settings, adapters: Adapters, policy: GatewayPolicy, *,
                  accounting: UsageAccounting, gateway: ModelGateway | None = None) -> CanonService:
    from sgd.canon.service import CanonService, local_canon_extractor
    from sgd.repositories.canon import CanonRepository

    return CanonService(
        CanonRepository(adapters.canon_table, adapters.cache_table, adapters.clock), _asset_records(adapters),
        adapters.storage,
        _given_or_lazy(gateway, lambda: model_gateway(settings, adapters, policy, accounting=accounting,
                                                      canon_extractor=local_canon_extractor)))


def canon_function(settings: Settings, adapters: Adapters | None = None, *,
                   gateway: ModelGateway | None = None) -> Function:
    from sgd.http.routes.canon import create_app
    from sgd.model_gateway.policy import load_policy

    adapters = adapters or Adapters.from_settings(settings)
    policy = load_policy()  # a bad model policy stops the cold start, naming the field
    accounting = usage_accounting(adapters, policy)
    app = create_app(canon_service(settings, adapters, policy, accounting=accounting, gateway=gateway), accounting,
                     _health(settings, policy), org_claim=settings.org_claim,
                     middleware=rate_limits(settings, adapters))
    return Function(app, lambda_entry(app))


# -- the critique function: POST /critique ------------------------------------------------------------------------


def critique_service(settings: Settings, adapters: Adapters, *, policy: CritiquePolicy | None = None,
                     gateway: ModelGateway | None = None) -> CritiqueService:
    from sgd.critique.policy import load_critique_policy
    from sgd.critique.service import CritiqueService
    from sgd.model_gateway.policy import load_policy
    from sgd.repositories.canon import CanonRepository

    gateway_policy = load_policy()
    assets = _asset_records(adapters)
    return CritiqueService(
        storage=adapters.storage, assets=assets, brand=_brand_assets(adapters, assets),
        canon=CanonRepository(adapters.canon_table, adapters.cache_table, adapters.clock),
        gateway=_given_or_lazy(gateway, lambda: model_gateway(settings, adapters, gateway_policy)),
        policy=policy or load_critique_policy(), presign_ttl_seconds=settings.presign_ttl_seconds)


def critique_function(settings: Settings, adapters: Adapters | None = None, *,
                      gateway: ModelGateway | None = None) -> Function:
    from sgd.http.routes.critique import create_app

    adapters = adapters or Adapters.from_settings(settings)
    app = create_app(critique_service(settings, adapters, gateway=gateway), org_claim=settings.org_claim,
                     middleware=rate_limits(settings, adapters))
    return Function(app, lambda_entry(app))


# -- the ingest function: /uploads, /ingest, S3 notifications -----------------------------------------------------


def upload_deliveries(settings: Settings, adapters: Adapters) -> UploadDeliveries:
    """The pipeline with everything it talks to: admission, extraction, embeddings and Qdrant load here."""
    from sgd.adapters.vectors import VectorStores
    from sgd.brand.fonts import ProjectFonts
    from sgd.ingest.deliveries import UploadDeliveries
    from sgd.ingest.pipeline import IngestPipeline
    from sgd.repositories.caches import FontsSummary
    from sgd.repositories.uploads import UploadLedger

    assets = _asset_records(adapters)
    qdrant_key = SecretRef(settings.qdrant_api_key_secret_arn, "api_key", "the Qdrant API key",
                           "QDRANT_API_KEY_SECRET_ARN")
    vectors = VectorStores(url=settings.qdrant_url, path=settings.qdrant_path, api_key=lambda: (
        adapters.secrets.value(qdrant_key) if settings.qdrant_api_key_secret_arn else None))
    pipeline = IngestPipeline(storage=adapters.storage, assets=assets,
                              fonts=ProjectFonts(assets, FontsSummary(adapters.cache_table)),
                              embedder=embedder(settings, adapters), store_for=vectors, clock=adapters.clock,
                              max_upload_bytes=settings.max_upload_bytes)
    return UploadDeliveries(UploadLedger(adapters.assets_table, adapters.clock), pipeline)


def embedder(settings: Settings, adapters: Adapters) -> Any:
    """The embedder SGD_EMBEDDINGS selects: sparse (default), bedrock or openai (a model name is required)."""
    from sgd.ingest.embeddings import CachedDenseEmbedder, SparseLexicalEmbedder
    from sgd.repositories.caches import EmbeddingCache

    if settings.embeddings == "sparse":
        return SparseLexicalEmbedder()
    from sgd.adapters.embedding_models import BedrockTitanModel, OpenAICompatibleModel

    if not settings.embeddings_model:
        raise ValueError(f"SGD_EMBEDDINGS={settings.embeddings} needs SGD_EMBEDDINGS_MODEL")
    cache = EmbeddingCache(adapters.cache_table)
    if settings.embeddings == "bedrock":
        return CachedDenseEmbedder(BedrockTitanModel(settings.embeddings_model, adapters.clients), cache)
    if not settings.embeddings_url:
        raise ValueError("SGD_EMBEDDINGS=openai needs SGD_EMBEDDINGS_URL")
    api_key = adapters.secrets.value(SecretRef(settings.embeddings_api_key_secret_arn, "api_key",
                                               "the embeddings API key", "SGD_EMBEDDINGS_API_KEY_SECRET_ARN")) \
        if settings.embeddings_api_key_secret_arn else ""
    return CachedDenseEmbedder(OpenAICompatibleModel(settings.embeddings_model, settings.embeddings_url, api_key),
                               cache)


def ingest_service(settings: Settings, adapters: Adapters) -> IngestService:
    from sgd.ingest.service import IngestService, fetch_through_guard
    from sgd.net.outbound import OutboundPolicy
    from sgd.repositories.uploads import UploadLedger

    return IngestService(ledger=UploadLedger(adapters.assets_table, adapters.clock), storage=adapters.storage,
                         clock=adapters.clock, deliveries=Lazy(lambda: upload_deliveries(settings, adapters)),
                         fetch_url=fetch_through_guard(OutboundPolicy.from_settings(settings)),
                         max_upload_bytes=settings.max_upload_bytes,
                         presign_ttl_seconds=settings.presign_ttl_seconds)


def ingest_function(settings: Settings, adapters: Adapters | None = None) -> Function:
    from sgd.http.routes.ingest import create_app

    adapters = adapters or Adapters.from_settings(settings)
    service = ingest_service(settings, adapters)
    app = create_app(service, org_claim=settings.org_claim, middleware=rate_limits(settings, adapters))
    return Function(app, lambda_entry(app, on_s3_event=lambda event, context: service.on_upload_event(event)))


# -- the render function: /render, the job routes, the render jobs queue ------------------------------------------


def render_service(settings: Settings, adapters: Adapters, *, gateway: ModelGateway | None = None,
                   critique_policy: CritiquePolicy | None = None,
                   critic_for: CriticFactory | None = None) -> RenderService:
    from sgd.adapters.queue import SqsQueue
    from sgd.brand.fonts import ProjectFonts
    from sgd.critique.policy import load_critique_policy
    from sgd.model_gateway.policy import load_policy
    from sgd.net.outbound import OutboundPolicy
    from sgd.render.content_policy import load_content_policy
    from sgd.render.pipeline import RenderPipeline
    from sgd.render.references import References
    from sgd.render.service import RenderService
    from sgd.render.webhooks import WebhookKeys
    from sgd.repositories.caches import FontsSummary, PlanCache, RenderCacheReads
    from sgd.repositories.canon import CanonRepository
    from sgd.repositories.jobs import JobRepository, RenderJobQueue

    policy = load_policy()  # each policy stops the cold start when invalid, naming the field
    outbound = OutboundPolicy.from_settings(settings)
    assets = _asset_records(adapters)
    pipeline = RenderPipeline(
        storage=adapters.storage, assets=assets, plans=PlanCache(adapters.cache_table, adapters.clock),
        cache_reads=RenderCacheReads(adapters.cache_table),
        canon=CanonRepository(adapters.canon_table, adapters.cache_table, adapters.clock),
        fonts=ProjectFonts(assets, FontsSummary(adapters.cache_table)), brand=_brand_assets(adapters, assets),
        # A render plans on every request, so the gateway is built now rather than on first use.
        gateway=gateway or model_gateway(settings, adapters, policy)(),
        references=References(assets, adapters.storage, outbound), content_policy=load_content_policy(),
        critique_policy=critique_policy or load_critique_policy(), presign_ttl_seconds=settings.presign_ttl_seconds,
        clock=adapters.clock, critic_for=critic_for)
    queue = RenderJobQueue(SqsQueue(settings.render_jobs_queue_url, adapters.clients)) \
        if settings.render_jobs_queue_url else None
    return RenderService(pipeline=pipeline, jobs=JobRepository(adapters.jobs_table, adapters.clock), queue=queue,
                         webhooks=WebhookKeys.from_settings(settings, adapters.secrets), outbound=outbound)


def render_function(settings: Settings, adapters: Adapters | None = None, *,
                    gateway: ModelGateway | None = None) -> Function:
    from sgd.adapters.idempotency import dynamodb_persistence
    from sgd.http.routes.render import create_app
    from sgd.render.idempotency import IdempotentRuns
    from sgd.render.worker import handle_job_messages

    adapters = adapters or Adapters.from_settings(settings)
    service = render_service(settings, adapters, gateway=gateway)
    idempotency = IdempotentRuns(lambda: dynamodb_persistence(settings.idempotency_table, adapters.clients))
    app = create_app(service, idempotency, org_claim=settings.org_claim, middleware=rate_limits(settings, adapters))
    return Function(app, lambda_entry(app, on_sqs_event=lambda event, context: handle_job_messages(
        service, event, context)))


FUNCTIONS: dict[str, Callable[..., Function]] = {"canon": canon_function, "critique": critique_function,
                                                 "ingest": ingest_function, "render": render_function}
