"""POST /canon/derive with a provider key: the gateway's canon task runs beside the deterministic extractor, explicit
values from the documents win, every disagreement is in the provenance, and a provider failure is a 5xx, never a
silently local canon. Against the loopback fake OpenRouter (tests only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT, ApiClient
from tests.integration.test_canon_routes import RULES
from tests.integration.test_ingest_pipeline import upload, wait_for_upload

pytestmark = pytest.mark.integration

MODEL_CANON = {"palette_hex": ["#0B3D91", "#FFB81C", "#22AA88"], "forbidden_hex": [], "fonts": ["Inter"],
               "voice": {"tone": "playful and loud", "dos": ["Use emoji"], "donts": []}, "logo_safe_zone_pct": 12}


@pytest.fixture(scope="module")
def keyed() -> Iterator[tuple[ApiClient, Any]]:
    import tempfile
    from pathlib import Path

    from bench.support.fake_openrouter import FakeOpenRouter
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    with FakeOpenRouter() as fake, tempfile.TemporaryDirectory() as data_dir:
        options = RuntimeOptions(data_dir=Path(data_dir), persist=False, throttle=False, environment={
            "OPENROUTER_API_KEY": "sk-test", "OPENROUTER_BASE_URL": fake.base_url})
        with LocalRuntime(options, root=ROOT) as runtime:
            api = ApiClient(runtime)
            status = wait_for_upload(api, "brand", upload(api, "brand", "rules.md", RULES, "text/markdown"))
            assert status["status"] == "indexed", status
            yield api, fake


def test_the_model_joins_the_derivation_and_disagreements_are_recorded(keyed: tuple[ApiClient, Any]) -> None:
    from bench.support.fake_openrouter import Reply

    api, fake = keyed
    fake.reset()
    fake.set_default(Reply.json(MODEL_CANON, cost=0.004))
    response = api.request("POST", "/canon/derive", {"project_id": "brand", "evidence_ids": []})
    assert response.status == 200, response.body
    document = response.json()
    assert document["canon"]["palette_hex"] == ["#0B3D91", "#FFB81C"]  # the documents' explicit colours win
    assert document["canon"]["voice"]["tone"] == "warm, direct and precise"
    assert document["audit"]["model_route"] == ["openai/gpt-4o-mini"]
    assert document["audit"]["cost_usd"] == pytest.approx(0.004)
    disagreements = {entry["field"]: entry["note"] for entry in document["provenance"]
                     if entry.get("note") and "model openai/gpt-4o-mini gave" in entry["note"]}
    assert "#22AA88" in disagreements["palette_hex"]
    assert "playful and loud" in disagreements["voice.tone"]
    assert len(fake.requests) == 1
    assert "warm, direct and precise" in str(fake.requests[0].body["messages"])  # the evidence went to the model


def test_a_provider_failure_is_a_5xx_not_a_local_canon(keyed: tuple[ApiClient, Any]) -> None:
    from bench.support.fake_openrouter import Reply

    api, fake = keyed
    fake.reset()
    fake.set_default(Reply.status(500, "upstream exploded"))
    versions_before = api.request("GET", "/canon/brand/versions").json()["versions"]
    response = api.request("POST", "/canon/derive", {"project_id": "brand", "evidence_ids": []})
    assert response.status in (502, 503), response.body
    assert response.json()["error"]["code"] in ("provider_error", "service_unavailable")
    assert api.request("GET", "/canon/brand/versions").json()["versions"] == versions_before  # nothing stored


def test_model_off_derives_from_the_documents_alone_on_purpose(keyed: tuple[ApiClient, Any]) -> None:
    from bench.support.fake_openrouter import Reply

    api, fake = keyed
    fake.reset()
    fake.set_default(Reply.json({"palette_hex": ["nonsense"]}))  # every answer fails the guardrail
    failed = api.request("POST", "/canon/derive", {"project_id": "brand", "evidence_ids": []})
    assert failed.status == 422, failed.body  # with the model on, its failure is never passed off as a full canon
    assert failed.json()["error"]["code"] == "guardrails_error"
    fake.reset()
    response = api.request("POST", "/canon/derive", {"project_id": "brand", "evidence_ids": [], "model": "off"})
    assert response.status == 200, response.body
    audit = response.json()["audit"]
    assert audit["derived_from"] == "documents"
    assert audit["model_route"] == ["local/extractor"]
    assert audit["cost_usd"] == 0
    assert any("model: off" in note for note in audit["notes"])
    assert fake.requests == []  # no provider call at all
    assert response.json()["canon"]["palette_hex"] == ["#0B3D91", "#FFB81C"]


def test_the_audit_says_the_model_ran(keyed: tuple[ApiClient, Any]) -> None:
    from bench.support.fake_openrouter import Reply

    api, fake = keyed
    fake.reset()
    fake.set_default(Reply.json(MODEL_CANON))
    response = api.request("POST", "/canon/derive", {"project_id": "brand", "evidence_ids": [], "model": "auto"})
    assert response.json()["audit"]["derived_from"] == "documents_and_model"
