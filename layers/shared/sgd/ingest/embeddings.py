"""Text embeddings behind one interface: sparse lexical vectors by default, dense model embeddings optionally.

- `SparseLexicalEmbedder` (default, offline, no model): lower-cased tokens hashed to stable uint32 indices,
  with BM25-style saturated term frequencies. The collection's IDF modifier supplies the inverse document
  frequency at query time, so document vectors carry only the term-frequency part.
- `BedrockTitanEmbedder`: Amazon Bedrock Titan text embeddings (`invoke_model`), plus the sparse vector.
- `OpenAICompatibleEmbedder`: any `/embeddings` API (OpenAI's shape), plus the sparse vector.

Dense embeddings cost a model call, so they are cached in the cache table by content hash
(`embed#{org}#{model}#{sha256}`, 30 days) by `CachedDenseEmbedder`; the sparse vector is recomputed instead (hashing
a few hundred tokens is cheaper than a DynamoDB round trip). Each embedder counts its cache hits and misses.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from sgd.adapters.tables import ItemTable
from sgd.adapters.vectors import SparseVector
from sgd.tenancy import Tenant

EMBED_CACHE_TTL_SECONDS = 30 * 24 * 3600
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


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
    """One remote embedding model: texts in, one vector each out."""

    model: str

    def vectors(self, texts: list[str]) -> list[list[float]]: ...


class BedrockTitanModel:
    """Amazon Bedrock Titan text embeddings: one invoke_model call per text (Titan takes one input)."""

    def __init__(self, model: str, client: Any = None) -> None:
        self.model = model
        self._given_client = client

    def vectors(self, texts: list[str]) -> list[list[float]]:
        from sgd.adapters.aws import aws_client

        client = self._given_client or aws_client("bedrock-runtime")
        result = []
        for text in texts:
            response = client.invoke_model(modelId=self.model, contentType="application/json",
                                           accept="application/json", body=json.dumps({"inputText": text}))
            result.append([float(value) for value in json.loads(response["body"].read())["embedding"]])
        return result


class OpenAICompatibleModel:
    """POST {url}/embeddings {"model", "input": [...]} -> {"data": [{"index", "embedding"}]}."""

    def __init__(self, model: str, url: str, api_key: str, *, timeout_s: float = 20.0) -> None:
        if not (url.startswith("https://") or url.startswith(("http://127.0.0.1:", "http://localhost:"))):
            raise ValueError("SGD_EMBEDDINGS_URL must be https (plain http only to a loopback address)")
        self.model = model
        self._url = url.rstrip("/") + "/embeddings"
        self._api_key = api_key
        self._timeout_s = timeout_s

    def vectors(self, texts: list[str]) -> list[list[float]]:
        import httpx

        response = httpx.post(self._url, json={"model": self.model, "input": texts}, timeout=self._timeout_s,
                              headers={"authorization": f"Bearer {self._api_key}"} if self._api_key else {})
        response.raise_for_status()
        data = sorted(response.json()["data"], key=lambda item: item["index"])
        if len(data) != len(texts):
            raise ValueError(f"the embeddings API returned {len(data)} vectors for {len(texts)} texts")
        return [[float(value) for value in item["embedding"]] for item in data]


def cache_key(org: str, model: str, text: str) -> str:
    """Scoped by org like every other table key: one org's cache hits say nothing about another org's text."""
    return f"embed#{org}#{model}#{content_hash(text)}"


class CachedDenseEmbedder:
    """Dense model vectors (cached by content hash in the cache table) alongside the sparse lexical vector."""

    def __init__(self, dense_model: DenseModel, cache: ItemTable, *, dense_size: int | None = None,
                 now: Any = None) -> None:
        import time

        self.model = dense_model.model
        self._dense_model = dense_model
        self._cache = cache
        self._now = now or time.time
        self.dense_size = dense_size
        self.stats = CacheStats()

    def _dense(self, tenant: Tenant, texts: list[str]) -> list[list[float]]:
        found: dict[int, list[float]] = {}
        for position, text in enumerate(texts):
            item = self._cache.get(cache_key(tenant.org, self.model, text))
            if item is not None and item.get("expires_at", 0) > self._now():
                found[position] = [float(value) for value in item["vector"]]
        missing = [position for position in range(len(texts)) if position not in found]
        self.stats.hits += len(found)
        self.stats.misses += len(missing)
        if missing:
            computed = self._dense_model.vectors([texts[position] for position in missing])
            expires_at = int(self._now()) + EMBED_CACHE_TTL_SECONDS
            for position, vector in zip(missing, computed, strict=True):
                found[position] = vector
                self._cache.put({"pk": cache_key(tenant.org, self.model, texts[position]), "model": self.model,
                                 "vector": vector, "expires_at": expires_at})
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


def _secret_value(arn: str) -> str:
    from sgd.adapters.secrets import secret_string

    return secret_string(arn, json_field="api_key", what="the embeddings API key",
                         variable="SGD_EMBEDDINGS_API_KEY_SECRET_ARN")


def build_embedder(settings: Any, cache: ItemTable) -> Embedder:
    """The embedder SGD_EMBEDDINGS selects: sparse (default), bedrock or openai (a model name is required)."""
    if settings.embeddings == "sparse":
        return SparseLexicalEmbedder()
    if not settings.embeddings_model:
        raise ValueError(f"SGD_EMBEDDINGS={settings.embeddings} needs SGD_EMBEDDINGS_MODEL")
    if settings.embeddings == "bedrock":
        return CachedDenseEmbedder(BedrockTitanModel(settings.embeddings_model), cache)
    if not settings.embeddings_url:
        raise ValueError("SGD_EMBEDDINGS=openai needs SGD_EMBEDDINGS_URL")
    api_key = _secret_value(settings.embeddings_api_key_secret_arn) if settings.embeddings_api_key_secret_arn else ""
    return CachedDenseEmbedder(OpenAICompatibleModel(settings.embeddings_model, settings.embeddings_url, api_key),
                               cache)


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
