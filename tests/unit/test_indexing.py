"""Chunking, sparse lexical vectors, point ids and the dense embedding cache: pure logic, no AWS."""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sgd.adapters.memory import MemoryTable
from sgd.ingest.embeddings import (
    CachedDenseEmbedder,
    SparseLexicalEmbedder,
    sparse_document_vector,
    sparse_query_vector,
    token_index,
    tokenize,
)
from sgd.ingest.indexing import CHUNK_MAX_CHARS, chunk_text, index_text, point_id
from sgd.repositories.caches import EmbeddingCache
from sgd.tenancy import Tenant

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
SENTENCE = st.lists(WORD, min_size=1, max_size=40).map(lambda words: " ".join(words).capitalize() + ".")
DOCUMENT = st.lists(st.lists(SENTENCE, min_size=1, max_size=12).map(" ".join), min_size=0, max_size=8).map(
    "\n\n".join)


@settings(max_examples=150, deadline=None)
@given(DOCUMENT)
def test_chunks_are_bounded_and_lose_no_word(text: str) -> None:
    chunks = chunk_text(text)
    assert all(0 < len(chunk) <= CHUNK_MAX_CHARS for chunk in chunks)
    assert set(text.split()) == {word for chunk in chunks for word in chunk.split()}
    assert bool(chunks) == bool(text.strip())


def test_chunks_end_on_sentences_and_overlap() -> None:
    sentences = [f"Rule number {n} says the logo keeps its clear space on every layout we make." for n in range(40)]
    chunks = chunk_text(" ".join(sentences))
    assert len(chunks) > 3
    assert all(chunk.endswith(".") for chunk in chunks)
    assert all(500 <= len(chunk) <= CHUNK_MAX_CHARS for chunk in chunks[:-1])
    for before, after in itertools.pairwise(chunks):
        last_sentence = re.split(r"(?<=\.) ", before)[-1]
        assert after.startswith(last_sentence)  # the boundary sentence is in both


def test_a_sentence_longer_than_a_chunk_is_split_at_spaces() -> None:
    chunks = chunk_text(" ".join(["word"] * 600))
    assert all(len(chunk) <= CHUNK_MAX_CHARS for chunk in chunks)
    assert len(chunks) >= 3


def test_sparse_vectors_are_stable_sorted_and_saturating() -> None:
    assert tokenize("Primary: #0B3D91, Sun-yellow!") == ["primary", "#0b3d91", "sun", "yellow"]
    assert token_index("logo") == 2937909581  # a fixed value: no per-process salt, stable across functions
    vector = sparse_document_vector("logo logo logo clear space")
    assert vector.indices == sorted(set(vector.indices))
    weights = dict(zip(vector.indices, vector.values, strict=True))
    assert weights[token_index("logo")] > weights[token_index("clear")] > 0
    assert weights[token_index("logo")] < 3 * weights[token_index("clear")]  # BM25 saturation, not raw counts
    assert sparse_query_vector("logo logo space").values == [1.0, 1.0]
    assert sparse_document_vector("  ").indices == []


@given(st.text(min_size=1, max_size=200))
def test_every_text_gives_a_valid_sparse_vector(text: str) -> None:
    vector = sparse_document_vector(text)
    assert len(vector.indices) == len(vector.values) == len(set(vector.indices))
    assert all(0 <= index < 2**32 for index in vector.indices)
    assert all(value > 0 for value in vector.values)


def test_point_ids_are_deterministic_and_tenant_scoped() -> None:
    acme, globex = Tenant("acme", "p"), Tenant("globex", "p")
    assert point_id(acme, "e1", 0) == point_id(acme, "e1", 0)
    assert len({point_id(acme, "e1", 0), point_id(acme, "e1", 1), point_id(globex, "e1", 0),
                point_id(acme, "e2", 0)}) == 4


class CountingModel:
    model = "test-embed"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def vectors(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return [[float(len(text)), 1.0, 0.5] for text in texts]


ACME = Tenant("acme", "p")


def test_dense_embeddings_are_cached_by_content_hash_and_expire() -> None:
    clock = [1_000_000.0]
    cache, model = EmbeddingCache(MemoryTable("CacheTable"), now=lambda: clock[0]), CountingModel()
    embedder = CachedDenseEmbedder(model, cache)
    first = embedder.embed_documents(ACME, ["alpha", "beta"])
    again = embedder.embed_documents(ACME, ["beta", "alpha", "gamma"])
    assert model.texts == ["alpha", "beta", "gamma"]
    assert (embedder.stats.hits, embedder.stats.misses, embedder.dense_size) == (2, 3, 3)
    assert again[1].dense == first[0].dense
    assert again[1].sparse == first[0].sparse
    assert cache.get("acme", "test-embed", "alpha") == first[0].dense
    assert cache.get("globex", "test-embed", "alpha") is None
    embedder.embed_documents(Tenant("globex", "p"), ["alpha"])  # another org never reads acme's entries
    assert model.texts == ["alpha", "beta", "gamma", "alpha"]
    clock[0] += 31 * 24 * 3600  # past the 30-day TTL: computed again
    embedder.embed_documents(ACME, ["alpha"])
    assert model.texts[-1] == "alpha"


class RecordingStore:
    def __init__(self) -> None:
        self.points: list[Any] = []

    def upsert(self, tenant: Tenant, points: list[Any]) -> list[str]:
        self.points += points
        return [point.point_id for point in points]


def test_index_text_writes_one_point_per_chunk_with_its_payload() -> None:
    store = RecordingStore()
    text = " ".join(f"Sentence {n} about the brand palette and its colours." for n in range(60))
    indexed = index_text(Tenant("acme", "p"), evidence_id="ev1", kind="pdf", source="guide.pdf", text=text,
                         embedder=SparseLexicalEmbedder(), store_for=lambda size: store)  # type: ignore[arg-type]
    assert indexed.chunks == len(store.points) == len(chunk_text(text)) > 1
    assert [point.payload["chunk"] for point in store.points] == list(range(indexed.chunks))
    assert {point.payload["evidence_id"] for point in store.points} == {"ev1"}
    assert store.points[0].payload["text"] == chunk_text(text)[0]
    assert index_text(Tenant("acme", "p"), evidence_id="ev2", kind="logo", source="l.png", text="",
                      embedder=SparseLexicalEmbedder(), store_for=lambda size: store).point_ids == []
