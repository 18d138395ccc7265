"""Object storage (S3) behind a small interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sgd.adapters.aws import ClientSource, error_code


def is_missing_object(error: BaseException) -> bool:
    """True when S3 says the key is not there. Without s3:ListBucket, S3 answers a missing key with 403 rather
    than 404; no function needs to tell the two apart, and none is granted ListBucket."""
    return error_code(error) in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied")


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    content_type: str
    etag: str
    metadata: dict[str, str]


class ObjectStorage(Protocol):
    def put(self, key: str, body: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> None: ...
    def get(self, key: str) -> bytes: ...
    def head(self, key: str) -> StoredObject | None: ...
    def move(self, source_key: str, target_key: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def presign_get(self, key: str, *, ttl_seconds: int) -> str: ...
    def presign_post(self, key: str, *, content_type: str, max_bytes: int,
                     ttl_seconds: int) -> dict[str, Any]: ...


class S3ObjectStorage:
    def __init__(self, bucket: str, clients: ClientSource) -> None:
        self.bucket = bucket
        self._clients = clients

    @property
    def _client(self) -> Any:
        return self._clients("s3")

    def put(self, key: str, body: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                                Metadata=metadata or {})

    def get(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def head(self, key: str) -> StoredObject | None:
        from botocore.exceptions import ClientError  # botocore is loaded by now: the client needs it

        try:
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if is_missing_object(error):
                return None
            raise
        return StoredObject(key=key, size=response["ContentLength"],
                            content_type=response.get("ContentType", "application/octet-stream"),
                            etag=response["ETag"].strip('"'), metadata=response.get("Metadata", {}))

    def move(self, source_key: str, target_key: str) -> None:
        self._client.copy_object(Bucket=self.bucket, Key=target_key,
                                 CopySource={"Bucket": self.bucket, "Key": source_key})
        self.delete(source_key)

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def presign_get(self, key: str, *, ttl_seconds: int) -> str:
        return self._client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                   ExpiresIn=ttl_seconds)

    def presign_post(self, key: str, *, content_type: str, max_bytes: int, ttl_seconds: int) -> dict[str, Any]:
        """A browser-style POST whose conditions pin the key, the content type and a size limit."""
        return self._client.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=ttl_seconds,
        )
