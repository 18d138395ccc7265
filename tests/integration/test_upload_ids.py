"""An upload id is accepted wherever an asset id is: critique ids, render references and the canon's logo. Through
the real Lambda path: the presigned upload, ingestion, then each route named by the upload id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT
from tests.integration.test_ingest_pipeline import upload, wait_for_upload
from tests.integration.test_render_route import new_project

pytestmark = pytest.mark.integration
KIT = ROOT / "examples" / "brands" / "northwind-coffee"
CANON = {"palette_hex": ["#1F3A2E", "#F4EDE1", "#C8553D"], "fonts": ["DejaVu Sans"],
         "voice": {"tone": "warm"}, "logo_safe_zone_pct": 10}


@pytest.fixture(scope="module")
def logo_upload(api: Any) -> tuple[str, str, dict[str, Any]]:
    project = new_project()
    upload_id = upload(api, project, "logo.png", (KIT / "logo.png").read_bytes(), "image/png")
    status = wait_for_upload(api, project, upload_id)
    assert status["status"] == "indexed", status
    return project, upload_id, status


def test_the_canon_logo_takes_an_upload_id_and_stores_its_asset(api: Any,
                                                                logo_upload: tuple[str, str, dict[str, Any]]) -> None:
    project, upload_id, status = logo_upload
    response = api.request("PUT", f"/canon/{project}", CANON | {"logo_asset_id": upload_id})
    assert response.status == 200, response.body
    assert response.json()["canon"]["logo_asset_id"] == status["asset_id"]


def test_critique_takes_an_upload_id(api: Any, logo_upload: tuple[str, str, dict[str, Any]]) -> None:
    project, upload_id, _ = logo_upload
    assert api.request("PUT", f"/canon/{project}", CANON).status == 200
    response = api.request("POST", "/critique", {"project_id": project, "asset_ids": [upload_id]})
    assert response.status == 200, response.body
    assert len(response.json()["assets"]) == 1


def test_a_render_reference_takes_an_upload_id(api: Any, logo_upload: tuple[str, str, dict[str, Any]]) -> None:
    project, upload_id, _ = logo_upload
    body = {"project_id": project, "prompts": {"task": "edit", "instruction": "Our logo on a calm poster",
                                               "references": [upload_id]}}
    response = api.request("POST", "/render", body)
    assert response.status == 200, response.body
    assert any("reference" in note for note in response.json()["audit"]["notes"])


def test_an_upload_not_ingested_yet_is_named_with_what_to_do(api: Any) -> None:
    project = new_project()
    assert api.request("PUT", f"/canon/{project}", CANON).status == 200
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": "later.png",
                                              "content_type": "image/png", "size_bytes": 100}).json()
    response = api.request("POST", "/critique", {"project_id": project, "asset_ids": [ticket["upload_id"]]})
    assert response.status == 404
    assert "GET /uploads/" in response.json()["error"]["message"]
