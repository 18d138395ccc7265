"""Vector search (Qdrant) behind a small interface. Every write and query is scoped by org and project.

qdrant-client is imported lazily: only the functions that touch vectors pay for it at cold start.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Protocol

from sgd.tenancy import Tenant

COLLECTION = "sgd_evidence"
SPARSE_VECTOR = "text"


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True, slots=True)
class VectorPoint:
    point_id: str  # deterministic (a content hash): re-ingesting the same content overwrites, never duplicates
    vector: SparseVector
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VectorHit:
    point_id: str
    score: float
    payload: dict[str, Any]


class VectorStore(Protocol):
    def upsert(self, tenant: Tenant, points: list[VectorPoint]) -> list[str]: ...
    def search(self, tenant: Tenant, query: SparseVector, *, limit: int = 10,
               kind: str | None = None) -> list[VectorHit]: ...
    def count(self, tenant: Tenant) -> int: ...


class QdrantVectorStore:
    """Qdrant over HTTP when a URL is given, else qdrant-client's embedded local mode on disk."""

    def __init__(self, *, url: str = "", path: str = "", api_key: str | None = None) -> None:
        from qdrant_client import QdrantClient

        self._client = QdrantClient(url=url, api_key=api_key) if url else QdrantClient(path=path)
        self._ensure_collection()

    def _ensure_collection(self) -> None:
        from qdrant_client import models

        if not self._client.collection_exists(COLLECTION):
            self._client.create_collection(
                COLLECTION,
                vectors_config={},
                sparse_vectors_config={SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )

    @staticmethod
    def _tenant_filter(tenant: Tenant, kind: str | None = None) -> Any:
        from qdrant_client import models

        conditions = [models.FieldCondition(key=name, match=models.MatchValue(value=value))
                      for name, value in tenant.vector_payload().items()]
        if kind:
            conditions.append(models.FieldCondition(key="kind", match=models.MatchValue(value=kind)))
        return models.Filter(must=conditions)

    def upsert(self, tenant: Tenant, points: list[VectorPoint]) -> list[str]:
        from qdrant_client import models

        self._client.upsert(COLLECTION, points=[
            models.PointStruct(
                id=point.point_id,
                vector={SPARSE_VECTOR: models.SparseVector(indices=point.vector.indices,
                                                           values=point.vector.values)},
                payload=point.payload | tenant.vector_payload(),  # the tenant always wins
            )
            for point in points
        ])
        return [point.point_id for point in points]

    def search(self, tenant: Tenant, query: SparseVector, *, limit: int = 10,
               kind: str | None = None) -> list[VectorHit]:
        from qdrant_client import models

        response = self._client.query_points(
            COLLECTION, query=models.SparseVector(indices=query.indices, values=query.values),
            using=SPARSE_VECTOR, query_filter=self._tenant_filter(tenant, kind), limit=limit, with_payload=True,
        )
        return [VectorHit(str(hit.id), hit.score, hit.payload or {}) for hit in response.points]

    def count(self, tenant: Tenant) -> int:
        return self._client.count(COLLECTION, count_filter=self._tenant_filter(tenant), exact=True).count

    def close(self) -> None:
        self._client.close()


@functools.cache
def vector_store() -> QdrantVectorStore:
    """The process-wide store, opened on first use and reused by warm invocations."""
    from sgd.settings import get_settings

    settings = get_settings()
    api_key = None
    if settings.qdrant_api_key_secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        api_key = str(get_secret(settings.qdrant_api_key_secret_arn, max_age=300))
    return QdrantVectorStore(url=settings.qdrant_url, path=settings.qdrant_path, api_key=api_key)
