"""The adapters against the embedded moto server and Qdrant's local mode (no mocks in between). The table port's
contract is tests/integration/test_table_contract.py."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from sgd.adapters.storage import S3ObjectStorage
from sgd.adapters.vectors import QdrantVectorStore, SparseVector, VectorPoint
from sgd.tenancy import Tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def storage(runtime: Any) -> S3ObjectStorage:
    return S3ObjectStorage(runtime.stack.bucket_name, runtime.aws.client)


def test_storage_put_head_move_delete(storage: S3ObjectStorage) -> None:
    tenant = Tenant("acme", "storage")
    source, target = tenant.quarantine_key("u1", "a.txt"), tenant.asset_key("u1", "a.txt")
    storage.put(source, b"hello", content_type="text/plain", metadata={"reason": "pending"})
    head = storage.head(source)
    assert head is not None
    assert (head.size, head.content_type, head.metadata) == (5, "text/plain",
                                                                               {"reason": "pending"})
    storage.move(source, target)
    assert storage.head(source) is None
    assert storage.get(target) == b"hello"
    assert httpx.get(storage.presign_get(target, ttl_seconds=60)).content == b"hello"
    storage.delete(target)
    assert storage.head(target) is None


def test_presigned_post_pins_key_and_content_type(storage: S3ObjectStorage) -> None:
    key = Tenant("acme", "storage").upload_key("up-7", "logo.png")
    post = storage.presign_post(key, content_type="image/png", max_bytes=1000, ttl_seconds=60)
    assert post["fields"]["key"] == key
    assert post["fields"]["Content-Type"] == "image/png"
    response = httpx.post(post["url"], data=post["fields"], files={"file": ("x.png", b"png-bytes", "image/png")})
    assert response.status_code == 204
    assert storage.get(key) == b"png-bytes"


def test_vectors_are_isolated_by_tenant_and_idempotent(tmp_path: Path) -> None:
    store = QdrantVectorStore(path=str(tmp_path / "qdrant"))
    try:
        acme, globex = Tenant("acme", "p"), Tenant("globex", "p")
        point = VectorPoint("7f1c4d3e-0000-4000-8000-000000000001", SparseVector([1, 5], [0.5, 1.0]),
                            {"kind": "pdf", "source": "guide.pdf", "org": "forged"})
        store.upsert(acme, [point])
        store.upsert(acme, [point])  # a redelivered event: same id, no duplicate
        store.upsert(globex, [VectorPoint("7f1c4d3e-0000-4000-8000-000000000002",
                                          SparseVector([1], [1.0]), {"kind": "pdf"})])
        assert store.count(acme) == 1
        assert store.count(globex) == 1
        hits = store.search(acme, SparseVector([1], [1.0]))
        assert [hit.payload["org"] for hit in hits] == ["acme"]  # the tenant overrides a forged payload
        assert store.search(acme, SparseVector([1], [1.0]), kind="font") == []
    finally:
        store.close()


def test_vectors_survive_a_reopen(tmp_path: Path) -> None:
    tenant = Tenant("acme", "p")
    first = QdrantVectorStore(path=str(tmp_path / "qdrant"))
    first.upsert(tenant, [VectorPoint("7f1c4d3e-0000-4000-8000-000000000003", SparseVector([3], [1.0]), {})])
    first.close()
    second = QdrantVectorStore(path=str(tmp_path / "qdrant"))
    try:
        assert second.count(tenant) == 1
    finally:
        second.close()
