"""Vector search (Qdrant) behind a small interface. Every write and query is scoped by org and project.

Every point carries a sparse lexical vector (named "text"; the collection applies Qdrant's IDF modifier, so the
stored values are BM25-style term weights). When dense embeddings are configured, points also carry a named
dense vector ("dense") and live in a collection whose name records the dimension, so that switching models
never mixes vector sizes and the sparse-only collection keeps working unchanged.

qdrant-client is imported lazily: only the functions that touch vectors pay for it at cold start.

Embedded local mode (no QDRANT_URL) holds an exclusive lock on its folder while a client is open. The local
runtime runs several function processes on one folder, so in that mode each operation opens the folder, works
and closes it again, waiting briefly when another process holds the lock; a server URL keeps one client.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sgd.tenancy import Tenant

COLLECTION = "sgd_evidence"
SPARSE_VECTOR = "text"
DENSE_VECTOR = "dense"
_LOCK_WAIT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True, slots=True)
class VectorPoint:
    point_id: str  # deterministic (a content hash): re-ingesting the same content overwrites, never duplicates
    vector: SparseVector
    payload: dict[str, Any] = field(default_factory=dict)
    dense: list[float] | None = None  # only when dense embeddings are configured


@dataclass(frozen=True, slots=True)
class VectorHit:
    point_id: str
    score: float
    payload: dict[str, Any]


class VectorStore(Protocol):
    def upsert(self, tenant: Tenant, points: list[VectorPoint]) -> list[str]: ...
    def search(self, tenant: Tenant, query: SparseVector | list[float], *, limit: int = 10,
               kind: str | None = None) -> list[VectorHit]: ...
    def count(self, tenant: Tenant) -> int: ...


def collection_name(dense_size: int | None) -> str:
    return COLLECTION if dense_size is None else f"{COLLECTION}_dense{dense_size}"


def tenant_filter(tenant: Tenant, kind: str | None = None) -> Any:
    """The filter on every query and count: the tenant's org and project, and optionally one kind."""
    from qdrant_client import models

    conditions: list[models.Condition] = [models.FieldCondition(key=name, match=models.MatchValue(value=value))
                  for name, value in tenant.vector_payload().items()]
    if kind:
        conditions.append(models.FieldCondition(key="kind", match=models.MatchValue(value=kind)))
    return models.Filter(must=conditions)


class QdrantVectorStore:
    """Qdrant over HTTP when a URL is given, else qdrant-client's embedded local mode on disk."""

    def __init__(self, *, url: str = "", path: str = "", api_key: str | None = None,
                 dense_size: int | None = None) -> None:
        self.collection = collection_name(dense_size)
        self._dense_size = dense_size
        self._url, self._path, self._api_key = url, path, api_key
        self._client: Any = None
        if url:
            from qdrant_client import QdrantClient

            self._client = QdrantClient(url=url, api_key=api_key)
        with self._session() as client:
            self._ensure_collection(client)

    @contextlib.contextmanager
    def _session(self) -> Iterator[Any]:
        if self._client is not None:
            yield self._client
            return
        client = _open_local(self._path)
        try:
            yield client
        finally:
            client.close()

    def _ensure_collection(self, client: Any) -> None:
        from qdrant_client import models

        if client.collection_exists(self.collection):
            return
        dense = ({DENSE_VECTOR: models.VectorParams(size=self._dense_size, distance=models.Distance.COSINE)}
                 if self._dense_size else {})
        client.create_collection(
            self.collection, vectors_config=dense,
            sparse_vectors_config={SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )

    def upsert(self, tenant: Tenant, points: list[VectorPoint]) -> list[str]:
        from qdrant_client import models

        if not points:
            return []
        structs = []
        for point in points:
            vector: dict[str, Any] = {SPARSE_VECTOR: models.SparseVector(indices=point.vector.indices,
                                                                         values=point.vector.values)}
            if self._dense_size:
                if point.dense is None or len(point.dense) != self._dense_size:
                    raise ValueError(f"collection {self.collection} needs a {self._dense_size}-d dense vector")
                vector[DENSE_VECTOR] = point.dense
            structs.append(models.PointStruct(id=point.point_id, vector=vector,
                                              payload=point.payload | tenant.vector_payload()))  # tenant wins
        with self._session() as client:
            client.upsert(self.collection, points=structs)
        return [point.point_id for point in points]

    def search(self, tenant: Tenant, query: SparseVector | list[float], *, limit: int = 10,
               kind: str | None = None) -> list[VectorHit]:
        from qdrant_client import models

        if isinstance(query, SparseVector):
            if not query.indices:
                return []
            vector: Any = models.SparseVector(indices=query.indices, values=query.values)
            using = SPARSE_VECTOR
        else:
            if not self._dense_size:
                raise ValueError(f"collection {self.collection} has no dense vectors")
            vector, using = query, DENSE_VECTOR
        with self._session() as client:
            response = client.query_points(self.collection, query=vector, using=using,
                                           query_filter=tenant_filter(tenant, kind), limit=limit, with_payload=True)
        return [VectorHit(str(hit.id), hit.score, hit.payload or {}) for hit in response.points]

    def count(self, tenant: Tenant) -> int:
        with self._session() as client:
            return client.count(self.collection, count_filter=tenant_filter(tenant), exact=True).count

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _open_local(path: str) -> Any:
    """Opens embedded Qdrant, waiting while another process of the local runtime holds the folder's lock."""
    from qdrant_client import QdrantClient

    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            return QdrantClient(path=path)
        except RuntimeError as error:
            if "already accessed" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class VectorStores:
    """One QdrantVectorStore per vector layout (sparse only, or with dense vectors of one size), opened on first use
    and reused by warm invocations. Nothing is opened at cold start: embedded Qdrant holds a folder lock."""

    def __init__(self, *, url: str, path: str, api_key: Callable[[], str | None]) -> None:
        self._url, self._path, self._api_key = url, path, api_key
        self._stores: dict[int | None, QdrantVectorStore] = {}
        self._lock = threading.Lock()

    def __call__(self, dense_size: int | None = None) -> QdrantVectorStore:
        with self._lock:
            if dense_size not in self._stores:
                self._stores[dense_size] = QdrantVectorStore(url=self._url, path=self._path,
                                                             api_key=self._api_key(), dense_size=dense_size)
            return self._stores[dense_size]
