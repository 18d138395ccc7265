"""The canon routes through the real Lambda path: derive (all or chosen evidence), read with ETag, versions, manual
edits with If-Match, the cache, and every client mistake as a 4xx in the error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_ingest_pipeline import upload, wait_for_upload

pytestmark = pytest.mark.integration

RULES = b"""# Brand rules

Our tone of voice is warm, direct and precise.

Colours: primary Ocean #0B3D91, secondary Sun #FFB81C. Never use #FF00FF.

Typography: headlines are set in Inter.

Keep a clear space of 12% of the logo width around the logo.
"""
INCOMPLETE = b"Our tone of voice is calm.\n\nWe like the sea.\n"
MANUAL = {"palette_hex": ["#112233", "#445566"], "forbidden_hex": ["#000000"], "fonts": ["Inter"],
          "voice": {"tone": "calm", "dos": ["Be brief"], "donts": []}, "logo_safe_zone_pct": 6}


@pytest.fixture(scope="module")
def evidence(api: Any) -> dict[str, Any]:
    status = wait_for_upload(api, "canon-routes", upload(api, "canon-routes", "rules.md", RULES, "text/markdown"))
    assert status["status"] == "indexed", status
    return status


def test_before_the_first_version_reads_are_404(api: Any) -> None:
    for path in ("/canon/never-derived", "/canon/never-derived/versions"):
        response = api.request("GET", path)
        assert response.status == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_derive_read_versions_and_a_stale_edit(api: Any, evidence: dict[str, Any]) -> None:
    derived = api.request("POST", "/canon/derive", {"project_id": "canon-routes", "evidence_ids": []})
    assert derived.status == 200, derived.body
    first = derived.json()
    assert first["canon"]["palette_hex"] == ["#0B3D91", "#FFB81C"]
    assert first["canon"]["forbidden_hex"] == ["#FF00FF"]
    assert first["canon"]["logo_safe_zone_pct"] == 12
    assert first["audit"]["model_route"] == ["local/extractor"]
    assert all(entry["evidence_ids"] == [evidence["evidence_id"]] for entry in first["provenance"]
               if entry["field"] in ("palette_hex", "fonts"))

    # Naming the evidence gives the same canon as a new version.
    chosen = api.request("POST", "/canon/derive", {"project_id": "canon-routes",
                                                   "evidence_ids": [evidence["evidence_id"]]}).json()
    assert chosen["version"] == first["version"] + 1
    assert chosen["canon"] == first["canon"]

    read = api.request("GET", "/canon/canon-routes")
    assert read.status == 200
    assert read.headers["etag"] == f'"{chosen["version"]}"'
    assert read.json()["version"] == chosen["version"]
    assert read.json()["audit"] is None

    edited = api.request("PUT", "/canon/canon-routes", MANUAL, headers={"if-match": read.headers["etag"]})
    assert edited.status == 200, edited.body
    assert edited.json()["source"] == "manual"
    assert edited.json()["version"] == chosen["version"] + 1
    # fonts unchanged: provenance kept; the derived colour roles and personality the edit left out are manual now.
    assert {entry["field"] for entry in edited.json()["provenance"] if entry["source"] == "manual"} == {
        "palette_hex", "forbidden_hex", "voice", "logo_safe_zone_pct", "color_roles", "personality"}
    assert api.request("GET", "/canon/canon-routes").json()["canon"]["palette_hex"] == ["#112233", "#445566"]

    stale = api.request("PUT", "/canon/canon-routes", MANUAL, headers={"if-match": read.headers["etag"]})
    assert stale.status == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert stale.json()["error"]["details"]["current_version"] == edited.json()["version"]

    versions = api.request("GET", "/canon/canon-routes/versions").json()["versions"]
    assert [v["version"] for v in versions] == [edited.json()["version"], chosen["version"], first["version"]]
    assert [v["source"] for v in versions] == ["manual", "derived", "derived"]


def test_the_cache_follows_every_write(api: Any, adapters: Any, evidence: dict[str, Any]) -> None:
    from sgd.repositories.canon import CanonRepository
    from sgd.tenancy import Tenant

    store = CanonRepository(adapters.canon_table, adapters.cache_table, adapters.clock)
    tenant = Tenant("acme", "cached")

    def cached_version() -> int | None:
        cached = store.from_cache_item(adapters.cache_table.get(*CanonRepository.cache_key(tenant)))
        return cached.version if cached is not None else None

    document = api.request("PUT", "/canon/cached", MANUAL).json()
    assert cached_version() == document["version"] == 1
    second = api.request("PUT", "/canon/cached", MANUAL | {"fonts": ["Lora"]}, headers={"if-match": "1"}).json()
    assert cached_version() == second["version"] == 2
    assert store.latest(tenant).canon["fonts"] == ["Lora"]  # type: ignore[union-attr]
    assert api.request("GET", "/canon/cached").json()["version"] == 2


def test_client_mistakes_are_4xx(api: Any, evidence: dict[str, Any]) -> None:
    unknown = api.request("POST", "/canon/derive", {"project_id": "canon-routes",
                                                    "evidence_ids": [evidence["evidence_id"], "nope-1", "nope-2"]})
    assert unknown.status == 404
    assert unknown.json()["error"]["details"]["unknown_evidence_ids"] == ["nope-1", "nope-2"]

    empty = api.request("POST", "/canon/derive", {"project_id": "no-evidence-here", "evidence_ids": []})
    assert empty.status == 422
    assert "ingest" in empty.json()["error"]["message"]

    clash = api.request("PUT", "/canon/canon-routes", MANUAL | {"forbidden_hex": ["#445566"]})
    assert clash.status == 422
    assert clash.json()["error"]["details"]["colors"] == ["#445566"]
    one_colour = api.request("PUT", "/canon/canon-routes", MANUAL | {"palette_hex": ["#112233"]})
    assert one_colour.status == 422
    assert one_colour.json()["error"]["code"] == "validation_error"
    for if_match in ("latest", '"³"', "1" * 5000):  # not a version; a unicode digit; past int()'s limit
        bad_if_match = api.request("PUT", "/canon/canon-routes", MANUAL, headers={"if-match": if_match})
        assert bad_if_match.status == 412, if_match
        assert bad_if_match.json()["error"]["code"] == "precondition_failed"
    missing_logo = api.request("PUT", "/canon/canon-routes", MANUAL | {"logo_asset_id": "not-an-asset"})
    assert missing_logo.status == 404
    assert api.request("POST", "/canon/derive", {"project_id": "x", "oops": 1}).status == 422


def test_an_incomplete_canon_says_what_to_upload(api: Any) -> None:
    status = wait_for_upload(api, "thin", upload(api, "thin", "note.txt", INCOMPLETE, "text/plain"))
    assert status["status"] == "indexed"
    response = api.request("POST", "/canon/derive", {"project_id": "thin", "evidence_ids": []})
    assert response.status == 422
    error = response.json()["error"]
    assert error["code"] == "canon_incomplete"
    assert set(error["details"]["missing"]) == {"palette_hex", "fonts"}
    assert len(error["details"]["upload"]) == 2
    assert api.request("GET", "/canon/thin").status == 404  # nothing stored


def test_a_rejected_upload_can_never_become_the_logo(api: Any) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    status = wait_for_upload(api, "canon-logo", upload(api, "canon-logo", "logo.png", svg, "image/png"))
    assert status["status"] == "rejected"
    response = api.request("PUT", "/canon/canon-logo", MANUAL | {"logo_asset_id": status["asset_id"]})
    assert response.status == 422
    assert response.json()["error"]["details"]["status"] == "rejected"


def test_colour_roles_usage_rules_and_personality_are_edited_and_checked(api: Any) -> None:
    design_rules = {
        "color_roles": {"#112233": "primary", "#445566": "accent"},
        "usage_rules": [{"kind": "cta_only", "hex": "#445566", "statement": "Accent is for calls to action only"},
                        {"kind": "proportion", "hex": "#112233", "min_pct": 50, "max_pct": 70}],
        "personality": {"energy": 0.2, "playfulness": 0.1, "richness": 0.3},
        "logo_min_width_px": 48, "logo_plate": False}
    saved = api.request("PUT", "/canon/canon-rules", MANUAL | design_rules)
    assert saved.status == 200, saved.body
    canon = api.request("GET", "/canon/canon-rules").json()["canon"]
    assert {name: canon[name] for name in design_rules} == design_rules | {"usage_rules": [
        rule | {"min_pct": None, "max_pct": None} if rule["kind"] == "cta_only" else rule | {"statement": None}
        for rule in design_rules["usage_rules"]]}
    edited = {entry["field"] for entry in saved.json()["provenance"] if entry["source"] == "manual"}
    assert {"color_roles", "usage_rules", "personality"} <= edited

    outside = api.request("PUT", "/canon/canon-rules", MANUAL | {"color_roles": {"#ABCDEF": "accent"}})
    assert outside.status == 422
    assert outside.json()["error"]["code"] == "rule_outside_palette"
    assert outside.json()["error"]["details"]["colors"] == ["#ABCDEF"]
    inverted = api.request("PUT", "/canon/canon-rules", MANUAL | {
        "usage_rules": [{"kind": "proportion", "hex": "#112233", "min_pct": 70, "max_pct": 20}]})
    assert inverted.status == 422
    assert inverted.json()["error"]["code"] == "invalid_proportion"
    bad_role = api.request("PUT", "/canon/canon-rules", MANUAL | {"color_roles": {"#112233": "loud"}})
    assert bad_role.status == 422
    assert bad_role.json()["error"]["code"] == "validation_error"


def test_if_match_follows_rfc_9110(api: Any) -> None:
    project = "if-match-rfc"
    star_on_nothing = api.request("PUT", f"/canon/{project}", MANUAL, headers={"if-match": "*"})
    assert star_on_nothing.status == 412  # '*' needs a current version to match
    first = api.request("PUT", f"/canon/{project}", MANUAL)
    assert first.status == 200
    etag = first.headers["etag"]
    weak = api.request("PUT", f"/canon/{project}", MANUAL, headers={"if-match": f"W/{etag}"})
    assert weak.status == 412  # a weak tag never matches a strong comparison
    assert weak.json()["error"]["code"] == "precondition_failed"
    listed = api.request("PUT", f"/canon/{project}", MANUAL, headers={"if-match": f'"99", W/{etag}, {etag}'})
    assert listed.status == 200, listed.body  # any member of the list that matches
    star = api.request("PUT", f"/canon/{project}", MANUAL, headers={"if-match": "*"})
    assert star.status == 200
    assert star.json()["version"] == 3
    stale_list = api.request("PUT", f"/canon/{project}", MANUAL, headers={"if-match": f'{etag}, "2"'})
    assert stale_list.status == 412
    assert stale_list.json()["error"]["details"]["current_version"] == 3


def test_numbers_too_small_for_dynamodb_are_stored_as_zero_not_a_500(api: Any) -> None:
    """Found by schemathesis: a subnormal float (2.2e-311) failed DynamoDB's number context and answered 500;
    below 1e-130 (DynamoDB's smallest) a number is stored as 0."""
    canon = MANUAL | {"personality": {"energy": 2.225073858507e-311, "playfulness": 2.96e-280, "richness": 0.5}}
    response = api.request("PUT", "/canon/tiny-numbers", canon)
    assert response.status == 200, response.body
    stored = api.request("GET", "/canon/tiny-numbers").json()["canon"]["personality"]
    assert stored["energy"] < 1e-130
    assert stored["richness"] == 0.5


def test_roles_and_usage_rules_come_from_a_guideline_pdf_s_colour_table(api: Any) -> None:
    from bench.support.pdfs import LAYOUTS

    kit = LAYOUTS["role_table"]()
    status = wait_for_upload(api, "canon-table", upload(api, "canon-table", "identity.pdf", kit.pdf,
                                                          "application/pdf"))
    assert status["status"] == "indexed", status
    response = api.request("POST", "/canon/derive", {"project_id": "canon-table", "evidence_ids": []})
    assert response.status == 200, response.body
    canon, provenance = response.json()["canon"], response.json()["provenance"]
    assert canon["forbidden_hex"] == []  # "Never as a background" in the usage column restricts, it does not ban
    assert canon["logo_min_width_px"] == 60  # "never smaller than 60 px wide"
    assert {color: role for color, role in canon["color_roles"].items() if color in kit.truth["color_roles"]} == \
        kit.truth["color_roles"]
    assert [{key: rule[key] for key in expected} for rule, expected in
            zip(canon["usage_rules"], kit.truth["usage_rules"], strict=True)] == kit.truth["usage_rules"]
    cited = {entry["field"]: entry for entry in provenance if entry["field"].startswith("color_roles.")}
    assert cited["color_roles.#00A19A"]["evidence_ids"] == [status["evidence_id"]]
    assert cited["color_roles.#E9EEF3"]["source"] == "inferred"  # its role cell is empty
