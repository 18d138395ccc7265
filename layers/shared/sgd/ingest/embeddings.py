"""Text embeddings behind one interface: sparse lexical vectors by default, dense model embeddings optionally.

- `SparseLexicalEmbedder` (default, offline, no model): lower-cased tokens hashed to stable uint32 indices,
  with BM25-style saturated term frequencies. The collection's IDF modifier supplies the inverse document
  frequency at query time, so document vectors carry only the term-frequency part.
- `CachedDenseEmbedder`: a remote model's dense vectors (Amazon Bedrock Titan, or any OpenAI-compatible
  `/embeddings` API: sgd.adapters.embedding_models), plus the sparse vector.

Dense embeddings cost a model call, so they are cached in the cache table by content hash
(`embed#{org}#{model}#{sha256}`, 30 days) by `CachedDenseEmbedder`; the sparse vector is recomputed instead (hashing
a few hundred tokens is cheaper than a DynamoDB round trip). Each embedder counts its cache hits and misses.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from sgd.adapters.vectors import SparseVector
from sgd.repositories.caches import EmbeddingCache
from sgd.tenancy import Tenant

SPARSE_MODEL = "sparse-bm25-v1"
# BM25's usual constants; AVERAGE_CHUNK_TOKENS is what the chunker's ~700-character chunks average.
BM25_K1 = 1.2
BM25_B = 0.75
AVERAGE_CHUNK_TOKENS = 110
# Words, numbers, and hex colours as single tokens ("#0b3d91"), so a colour query finds its page.
_TOKEN = re.compile(r"#[0-9a-f]{6}\b|[^\W_]+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def token_index(token: str) -> int:
    """A stable uint32 per token (Python's hash() is salted per process, so it cannot be used)."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")


def _merge(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[round(weights[index], 6) for index in indices])


def sparse_document_vector(text: str) -> SparseVector:
    """BM25 term weights of one chunk: tf·(k1+1) / (tf + k1·(1 - b + b·len/avglen)); colliding tokens add up."""
    tokens = tokenize(text)
    if not tokens:
        return SparseVector([], [])
    length_norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / AVERAGE_CHUNK_TOKENS)
    weights: dict[int, float] = {}
    for token, tf in Counter(tokens).items():
        index = token_index(token)
        weights[index] = weights.get(index, 0.0) + tf * (BM25_K1 + 1) / (tf + length_norm)
    return _merge(weights)


def sparse_query_vector(text: str) -> SparseVector:
    """A query weighs each distinct term once; Qdrant multiplies in the IDF."""
    return _merge(dict.fromkeys((token_index(token) for token in tokenize(text)), 1.0))


@dataclass(frozen=True, slots=True)
class Embedding:
    sparse: SparseVector
    dense: list[float] | None = None


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float | None:
        total = self.hits + self.misses
        return round(self.hits / total, 4) if total else None

    def as_dict(self) -> dict[str, Any]:
        return {"hits": self.hits, "misses": self.misses, "hit_rate": self.hit_rate}


class Embedder(Protocol):
    model: str
    dense_size: int | None  # None: sparse only; known after construction for dense models
    stats: CacheStats

    def embed_documents(self, tenant: Tenant, texts: list[str]) -> list[Embedding]: ...
    def embed_query(self, tenant: Tenant, text: str) -> Embedding: ...


@dataclass
class SparseLexicalEmbedder:
    model: str = SPARSE_MODEL
    dense_size: int | None = None
    stats: CacheStats = field(default_factory=CacheStats)  # never cached: stays 0/0

    def embed_documents(self, tenant: Tenant, texts: list[str]) -> list[Embedding]:
        return [Embedding(sparse_document_vector(text)) for text in texts]

    def embed_query(self, tenant: Tenant, text: str) -> Embedding:
        return Embedding(sparse_query_vector(text))


class DenseModel(Protocol):
    """One remote embedding model (sgd.adapters.embedding_models): texts in, one vector each out."""

    model: str

    def vectors(self, texts: list[str]) -> list[list[float]]: ...


class CachedDenseEmbedder:
    """Dense model vectors (cached by content hash in the cache table) alongside the sparse lexical vector."""

    def __init__(self, dense_model: DenseModel, cache: EmbeddingCache, *, dense_size: int | None = None) -> None:
        self.model = dense_model.model
        self._dense_model = dense_model
        self._cache = cache
        self.dense_size = dense_size
        self.stats = CacheStats()

    def _dense(self, tenant: Tenant, texts: list[str]) -> list[list[float]]:
        found: dict[int, list[float]] = {}
        for position, text in enumerate(texts):
            cached = self._cache.get(tenant.org, self.model, text)
            if cached is not None:
                found[position] = cached
        missing = [position for position in range(len(texts)) if position not in found]
        self.stats.hits += len(found)
        self.stats.misses += len(missing)
        if missing:
            computed = self._dense_model.vectors([texts[position] for position in missing])
            for position, vector in zip(missing, computed, strict=True):
                found[position] = vector
                self._cache.put(tenant.org, self.model, texts[position], vector)
        vectors = [found[position] for position in range(len(texts))]
        for vector in vectors:
            if self.dense_size is None:
                self.dense_size = len(vector)
            if len(vector) != self.dense_size or not all(math.isfinite(value) for value in vector):
                raise ValueError(f"{self.model} returned a vector of another size or with non-finite values")
        return vectors

    def embed_documents(self, tenant: Tenant, texts: list[str]) -> list[Embedding]:
        if not texts:
            return []
        dense = self._dense(tenant, texts)
        return [Embedding(sparse_document_vector(text), vector) for text, vector in zip(texts, dense, strict=True)]

    def embed_query(self, tenant: Tenant, text: str) -> Embedding:
        return Embedding(sparse_query_vector(text), self._dense(tenant, [text])[0])


def report_cache_use(embedder: Embedder, before: tuple[int, int]) -> dict[str, Any]:
    """Logs and emits the embedding cache hits and misses since `before` (a (hits, misses) snapshot)."""
    hits, misses = embedder.stats.hits - before[0], embedder.stats.misses - before[1]
    usage = {"model": embedder.model, "hits": hits, "misses": misses,
             "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None}
    if hits + misses:
        from aws_lambda_powertools.metrics import MetricUnit

        from sgd.observability import logger, metrics

        logger.info("embedding cache", extra=usage)
        metrics.add_metric(name="EmbeddingCacheHits", unit=MetricUnit.Count, value=hits)
        metrics.add_metric(name="EmbeddingCacheMisses", unit=MetricUnit.Count, value=misses)
    return usage
