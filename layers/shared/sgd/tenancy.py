"""Tenant scoping: every S3 key and every table partition is built here from (org, project).

Sort keys and the rest of each table's schema belong to the repositories (sgd.repositories); the partition they
write under, and every object key, comes from a Tenant, so one org can never address another's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)

UPLOADS_PREFIX = "uploads/"
QUARANTINE_AREA = "quarantine"
ASSETS_AREA = "assets"


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

    # -- table partitions ---------------------------------------------------------------------------------------
    @property
    def partition_key(self) -> str:
        return f"org#{self.org}#project#{self.project}"

    @staticmethod
    def org_partition_key(org: str) -> str:
        """For what belongs to the whole org rather than one project: its jobs and its daily model budget."""
        return f"org#{org}"

    # -- object keys --------------------------------------------------------------------------------------------
    def upload_key(self, upload_id: str, filename: str) -> str:
        """Where a presigned POST puts a file: uploads/{org}/{project}/{upload_id}/{filename}."""
        return f"{UPLOADS_PREFIX}{self.org}/{self.project}/{upload_id}/{filename}"

    def quarantine_key(self, asset_id: str, filename: str) -> str:
        """A file waiting for admission, or rejected and kept with its reason."""
        return self._area_key(QUARANTINE_AREA, asset_id, filename)

    def asset_key(self, asset_id: str, filename: str) -> str:
        """An admitted file (and, as font.ttf, a font converted for the design engine)."""
        return self._area_key(ASSETS_AREA, asset_id, filename)

    def evidence_key(self, evidence_id: str) -> str:
        """The full extraction of one asset, as JSON."""
        return self._area_key(ASSETS_AREA, "evidence", f"{evidence_id}.json")

    def render_key(self, render_id: str, index: int, extension: str) -> str:
        return f"{self._project_prefix()}/renders/{render_id}/{index}.{extension}"

    def critique_key(self, critique_id: str, asset_id: str, extension: str) -> str:
        """An annotated copy of one critiqued design."""
        return f"{self._project_prefix()}/critiques/{critique_id}/{asset_id}.{extension}"

    def _area_key(self, area: str, *parts: str) -> str:
        """Keys under quarantine/ and assets/ share the uploads layout: {area}/{org}/{project}/..."""
        return "/".join((area, self.org, self.project, *parts))

    def _project_prefix(self) -> str:
        return f"org/{self.org}/projects/{self.project}"

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
