"""Tenant isolation on every ingest and canon route, both ways: two orgs using the same project name never see,
derive from, edit or list each other's uploads, evidence, vectors, assets or canon."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_ingest_pipeline import object_keys, search, upload, wait_for_upload

pytestmark = pytest.mark.integration
PROJECT = "same-name"
GUIDES = {
    "acme": b"Our tone of voice is bold. Colours: Red #C8102E and Navy #0A2240. "
            b"Typography: headlines are set in Inter.\n",
    "globex": b"Our tone of voice is quiet. Colours: Moss #4A6B3A and Stone #B8B09B. "
              b"Typography: headlines are set in Lora.\n",
}


@pytest.fixture(scope="module")
def tenants(api: Any, api_other_org: Any) -> dict[str, dict[str, Any]]:
    found = {}
    for org, client in (("acme", api), ("globex", api_other_org)):
        upload_id = upload(client, PROJECT, "guide.txt", GUIDES[org], "text/plain")
        status = wait_for_upload(client, PROJECT, upload_id)
        assert status["status"] == "indexed", status
        derived = client.request("POST", "/canon/derive", {"project_id": PROJECT, "evidence_ids": []})
        assert derived.status == 200, derived.body
        found[org] = {"client": client, "upload_id": upload_id, "status": status, "canon": derived.json()}
    return found


@pytest.mark.parametrize(("me", "other"), [("acme", "globex"), ("globex", "acme")])
def test_uploads_and_evidence_of_another_org_do_not_exist(tenants: dict[str, Any], me: str, other: str) -> None:
    client, theirs = tenants[me]["client"], tenants[other]
    assert client.request("GET", f"/uploads/{theirs['upload_id']}?project_id={PROJECT}").status == 404
    ingest = client.request("POST", "/ingest", {"project_id": PROJECT, "assets": [theirs["upload_id"]]}).json()
    assert ingest["items"] == []
    assert "unknown upload" in ingest["rejected"][0]["reason"]
    derive = client.request("POST", "/canon/derive", {"project_id": PROJECT,
                                                      "evidence_ids": [theirs["status"]["evidence_id"]]})
    assert derive.status == 404
    assert derive.json()["error"]["details"]["unknown_evidence_ids"] == [theirs["status"]["evidence_id"]]


@pytest.mark.parametrize(("me", "other"), [("acme", "globex"), ("globex", "acme")])
def test_each_org_derives_reads_and_lists_only_its_own_canon(tenants: dict[str, Any], me: str, other: str) -> None:
    client = tenants[me]["client"]
    mine, theirs = tenants[me]["canon"], tenants[other]["canon"]
    assert set(mine["canon"]["palette_hex"]).isdisjoint(theirs["canon"]["palette_hex"])
    assert all(entry["evidence_ids"] in ([], [tenants[me]["status"]["evidence_id"]]) for entry in mine["provenance"])
    latest = client.request("GET", f"/canon/{PROJECT}").json()
    assert latest["canon"]["palette_hex"] == mine["canon"]["palette_hex"] or latest["source"] == "manual"
    versions = client.request("GET", f"/canon/{PROJECT}/versions").json()["versions"]
    assert {v["created_by"] for v in versions} == {latest["created_by"]}


def test_an_edit_by_one_org_never_touches_the_other(tenants: dict[str, Any]) -> None:
    acme, globex = tenants["acme"]["client"], tenants["globex"]["client"]
    before = globex.request("GET", f"/canon/{PROJECT}").json()
    acme_latest = acme.request("GET", f"/canon/{PROJECT}")
    edit = dict(acme_latest.json()["canon"]) | {"fonts": ["Acme Display"]}
    edited = acme.request("PUT", f"/canon/{PROJECT}", edit, headers={"if-match": acme_latest.headers["etag"]})
    assert edited.status == 200
    after = globex.request("GET", f"/canon/{PROJECT}")
    assert after.json() == before
    assert after.headers["etag"] == f'"{before["version"]}"'
    # The other org's version number is no lever either: each org's canon has its own sequence.
    stale = globex.request("PUT", f"/canon/{PROJECT}", before["canon"],
                           headers={"if-match": f'"{edited.json()["version"]}"'})
    assert edited.json()["version"] > before["version"]
    assert stale.status == 412


def test_vectors_and_objects_are_scoped_by_org(runtime: Any, tenants: dict[str, Any]) -> None:
    for me, other in (("acme", "globex"), ("globex", "acme")):
        hits = search(runtime, me, PROJECT, "tone of voice colours typography")
        assert hits
        assert {hit.payload["org"] for hit in hits} == {me}
        assert all(hit.payload["evidence_id"] == tenants[me]["status"]["evidence_id"] for hit in hits)
        assert tenants[other]["status"]["asset_id"] not in "".join(object_keys(runtime, f"assets/{me}/{PROJECT}/"))
    ticket = tenants["globex"]["client"].request("POST", "/uploads", {
        "project_id": PROJECT, "filename": "x.pdf", "content_type": "application/pdf", "size_bytes": 10}).json()
    assert ticket["key"].startswith(f"uploads/globex/{PROJECT}/")
