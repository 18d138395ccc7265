"""Indexing of evidence text: chunking on sentence and paragraph boundaries, embedding, deterministic points.

Point ids are UUIDs derived from (org, project, evidence_id, chunk index): the same evidence indexed twice
(a re-ingest, a redelivered S3 event) overwrites its own points and never adds new ones.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sgd.adapters.vectors import VectorHit, VectorPoint, VectorStore
from sgd.ingest.embeddings import Embedder
from sgd.tenancy import Tenant

CHUNK_TARGET_CHARS = 700
CHUNK_MAX_CHARS = 800
CHUNK_MIN_CHARS = 500
CHUNK_OVERLAP_CHARS = 120
_POINT_NAMESPACE = uuid.UUID("5b0c9a8e-6f1d-4d0e-9a57-3c8f1e2b7d41")
_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n")


def _units(text: str) -> list[str]:
    """Sentences (and lines), each at most CHUNK_MAX_CHARS; a paragraph break is kept as its own marker."""
    units: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        sentences = [" ".join(part.split()) for part in _SENTENCE_END.split(paragraph)]
        for sentence in filter(None, sentences):
            while len(sentence) > CHUNK_MAX_CHARS:  # one huge "sentence": cut at the last space that fits
                cut = sentence.rfind(" ", 0, CHUNK_MAX_CHARS)
                cut = cut if cut > CHUNK_MAX_CHARS // 2 else CHUNK_MAX_CHARS
                units.append(sentence[:cut].strip())
                sentence = sentence[cut:].strip()
            if sentence:
                units.append(sentence)
        units.append("\n")
    return units


def chunk_text(text: str) -> list[str]:
    """Chunks of ~CHUNK_TARGET_CHARS (never over CHUNK_MAX_CHARS) made of whole sentences. A chunk ends early at
    a paragraph break once it holds CHUNK_MIN_CHARS; consecutive chunks overlap by up to CHUNK_OVERLAP_CHARS of
    whole trailing sentences, so a rule that straddles a boundary is found from either side."""
    chunks: list[str] = []
    current: list[str] = []
    fresh = 0  # sentences in `current` that no chunk holds yet (the rest is overlap)

    def size(parts: list[str]) -> int:
        return sum(len(part) for part in parts) + max(len(parts) - 1, 0)

    def flush() -> None:
        nonlocal current, fresh
        chunks.append(" ".join(current))
        overlap: list[str] = []
        for sentence in reversed(current[1:]):  # never the whole chunk again
            if size([sentence, *overlap]) > CHUNK_OVERLAP_CHARS:
                break
            overlap.insert(0, sentence)
        current, fresh = overlap, 0

    for unit in _units(text):
        if unit == "\n":
            if fresh and size(current) >= CHUNK_MIN_CHARS:
                flush()
            continue
        if fresh and size([*current, unit]) > CHUNK_MAX_CHARS:
            flush()
        while current and size([*current, unit]) > CHUNK_MAX_CHARS:
            current.pop(0)  # the overlap gives way to a long sentence
        current.append(unit)
        fresh += 1
        if size(current) >= CHUNK_TARGET_CHARS:
            flush()
    if fresh:
        chunks.append(" ".join(current))
    return chunks


def point_id(tenant: Tenant, evidence_id: str, chunk_index: int) -> str:
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{tenant.org}/{tenant.project}/{evidence_id}/{chunk_index}"))


@dataclass(frozen=True, slots=True)
class IndexedText:
    point_ids: list[str]
    chunks: int
    model: str


StoreFor = Callable[[int | None], VectorStore]  # the store for a dense size (None: sparse only)


def index_text(tenant: Tenant, *, evidence_id: str, kind: str, source: str, text: str, embedder: Embedder,
               store_for: StoreFor) -> IndexedText:
    """Chunks, embeds and upserts one evidence's text; returns the point ids (none for text-less evidence)."""
    chunks = chunk_text(text)
    if not chunks:
        return IndexedText([], 0, embedder.model)
    embeddings = embedder.embed_documents(tenant, chunks)
    points = [
        VectorPoint(point_id(tenant, evidence_id, index), embedding.sparse,
                    {"kind": kind, "source": source, "evidence_id": evidence_id, "chunk": index, "text": chunk},
                    dense=embedding.dense)
        for index, (chunk, embedding) in enumerate(zip(chunks, embeddings, strict=True))
    ]
    store = store_for(embedder.dense_size)
    return IndexedText(store.upsert(tenant, points), len(chunks), embedder.model)


def search_evidence(tenant: Tenant, query: str, *, embedder: Embedder, store_for: StoreFor, limit: int = 5,
                    kind: str | None = None) -> list[VectorHit]:
    """The tenant's chunks nearest the query (dense when configured, else lexical); never another tenant's."""
    embedding = embedder.embed_query(tenant, query)
    store = store_for(embedder.dense_size)
    vector: Any = embedding.dense if embedding.dense is not None else embedding.sparse
    return store.search(tenant, vector, limit=limit, kind=kind)
