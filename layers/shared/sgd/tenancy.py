"""Tenant scoping: every S3 key, table key and vector payload is built here from (org, project)."""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)

UPLOADS_PREFIX = "uploads/"


def is_identifier(value: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(value))


@dataclass(frozen=True, slots=True)
class Tenant:
    """An org (from verified JWT claims only) and one of its projects (from the request)."""

    org: str
    project: str

    def __post_init__(self) -> None:
        for name in ("org", "project"):
            if not is_identifier(getattr(self, name)):
                raise ValueError(f"{name} must match {IDENTIFIER_PATTERN}")

    @property
    def partition_key(self) -> str:
        return f"org#{self.org}#project#{self.project}"

    @staticmethod
    def org_partition_key(org: str) -> str:
        """For what belongs to the whole org rather than one project: its daily model budget."""
        return f"org#{org}"

    def upload_key(self, upload_id: str, filename: str) -> str:
        return f"{UPLOADS_PREFIX}{self.org}/{self.project}/{upload_id}/{filename}"

    def area_key(self, area: str, *parts: str) -> str:
        """Keys under quarantine/ and assets/ share the uploads layout: {area}/{org}/{project}/..."""
        return "/".join((area, self.org, self.project, *parts))

    def vector_payload(self) -> dict[str, str]:
        return {"org": self.org, "project": self.project}


@dataclass(frozen=True, slots=True)
class UploadKey:
    """A key under uploads/{org}/{project}/{upload_id}/{filename}, as POST /uploads issues them."""

    tenant: Tenant
    upload_id: str
    filename: str


def parse_upload_key(key: str) -> UploadKey:
    """Split an uploads/ key into its tenant, upload id and file name; ValueError says what is wrong."""
    if not key.startswith(UPLOADS_PREFIX):
        raise ValueError(f"key is not under {UPLOADS_PREFIX}")
    parts = key[len(UPLOADS_PREFIX) :].split("/", 3)
    if len(parts) != 4 or not all(parts):
        raise ValueError("key must look like uploads/{org}/{project}/{upload_id}/{filename}")
    org, project, upload_id, filename = parts
    if not is_identifier(upload_id):
        raise ValueError(f"upload id must match {IDENTIFIER_PATTERN}")
    return UploadKey(Tenant(org, project), upload_id, filename)
