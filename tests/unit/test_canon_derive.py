"""Canon derivation from evidence documents, the merge with a model's canon, and what is reported missing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sgd.canon.derive import DerivedCanon, canon_extractor, derive_canon, merge_model_canon
from sgd.errors import ValidationFailed
from sgd.guardrails import validate_contract
from sgd.ingest.admission import AdmittedFile
from sgd.ingest.extract import empty_document, extract

from bench.support.pdfs import LAYOUTS

ROOT = Path(__file__).resolve().parents[2]
KITS = sorted(path for path in (ROOT / "examples" / "brands").iterdir() if (path / "truth.json").is_file())


def evidence_of(kind: str, data: bytes, source: str, mime: str = "application/pdf") -> dict[str, Any]:
    asset_id = hashlib.sha256(data).hexdigest()[:32]
    document = extract(AdmittedFile(kind, mime, source.rsplit(".", 1)[-1], data), source=source).document
    return document | {"evidence_id": f"ev{asset_id[:12]}", "asset_id": asset_id}


def text_evidence(text: str, evidence_id: str) -> dict[str, Any]:
    return evidence_of("text", text.encode(), f"{evidence_id}.txt", "text/plain") | {"evidence_id": evidence_id}


def values(derived: DerivedCanon, field: str) -> list[dict[str, Any]]:
    return [item for item in derived.provenance if item["field"] == field]


@pytest.fixture(scope="module", params=KITS, ids=lambda path: path.name)
def example(request: pytest.FixtureRequest) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    kit: Path = request.param
    evidence = [evidence_of("pdf", (kit / "guidelines.pdf").read_bytes(), "guidelines.pdf"),
                evidence_of("logo", (kit / "logo.png").read_bytes(), "logo.png", "image/png")]
    return evidence, json.loads((kit / "truth.json").read_text())


def test_example_kit_canon_matches_truth(example: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    evidence, truth = example
    derived = derive_canon(evidence)
    canon = derived.canon
    assert canon["palette_hex"] == truth["palette_hex"]
    assert canon["forbidden_hex"] == truth["forbidden_hex"]
    assert canon["fonts"] == truth["fonts"]
    assert canon["voice"] == truth["voice"]
    assert canon["logo_safe_zone_pct"] == truth["logo_safe_zone_pct"]
    assert canon["logo_asset_id"] == evidence[1]["asset_id"]
    assert derived.missing == []
    validate_contract("canon.json", canon)
    pdf_id, logo_id = evidence[0]["evidence_id"], evidence[1]["evidence_id"]
    first = values(derived, "palette_hex")[0]
    assert first["value"] == truth["palette_hex"][0]
    assert first["evidence_ids"] == [pdf_id, logo_id]
    assert all(item["source"] == "deterministic" and item["evidence_ids"] for item in values(derived, "fonts"))
    assert canon_extractor(evidence) == canon


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_generated_layout_canon_matches_truth(name: str) -> None:
    kit = LAYOUTS[name]()
    derived = derive_canon([evidence_of("pdf", kit.pdf, f"{name}.pdf")])
    canon, truth = derived.canon, kit.truth
    assert canon["palette_hex"] == truth["palette_hex"]
    assert canon["forbidden_hex"] == truth["forbidden_hex"]
    assert canon["fonts"] == truth["fonts"]
    assert canon["voice"] == truth["voice"]
    assert canon["logo_safe_zone_pct"] == truth["logo_safe_zone_pct"]
    assert canon["logo_asset_id"] is None
    assert derived.missing == []
    validate_contract("canon.json", canon)
    assert canon.get("logo_min_width_px") == truth.get("logo_min_width_px")
    if "color_roles" in truth:  # a colour table with role and usage columns: read from its cells, with provenance
        stated = {color: role for color, role in canon["color_roles"].items() if color in truth["color_roles"]}
        assert stated == truth["color_roles"]
        assert [{key: rule[key] for key in truth_rule} for rule, truth_rule in
                zip(canon["usage_rules"], truth["usage_rules"], strict=True)] == truth["usage_rules"]
        for color in canon["color_roles"]:
            [entry] = values(derived, f"color_roles.{color}")
            if color in truth["color_roles"]:
                assert entry["evidence_ids"]
                assert "colour table, role column" in entry["note"]
            else:
                assert entry["source"] == "inferred"
        assert all("colour table, usage column" in entry["note"] for entry in values(derived, "usage_rules"))


def test_clear_space_without_percentage_defaults_with_a_note() -> None:
    derived = derive_canon([evidence_of("pdf", LAYOUTS["prose_only"]().pdf, "prose.pdf")])
    [zone] = values(derived, "logo_safe_zone_pct")
    assert zone["value"] == "10.0"
    assert zone["evidence_ids"] == []
    assert zone["note"].startswith("default")
    assert "height of the letter L" in zone["note"]


def test_conflicting_tone_majority_wins_and_is_noted() -> None:
    evidence = [text_evidence("Tone: playful, loud.", "a"), text_evidence("Our tone of voice is calm, exact.", "b"),
                text_evidence("Tone: calm, exact", "c")]
    derived = derive_canon(evidence)
    assert derived.canon["voice"]["tone"] == "calm, exact"
    [tone] = values(derived, "voice.tone")
    assert tone["evidence_ids"] == ["b", "c"]
    assert "playful, loud" in tone["note"]
    assert any("voice.tone" in note for note in derived.notes)


def test_conflicting_tone_tie_keeps_the_first() -> None:
    derived = derive_canon([text_evidence("Tone: playful.", "a"), text_evidence("Tone: calm.", "b")])
    assert derived.canon["voice"]["tone"] == "playful"


def test_forbidden_never_in_palette_and_cross_document_majority() -> None:
    evidence = [text_evidence("Ocean #0B3D91\nSun #FFB81C\nNever use #FF00FF.", "a"),
                text_evidence("Magenta #FF00FF is a brand colour.", "b"),
                text_evidence("Avoid magenta #FF00FF at all costs.", "c")]
    derived = derive_canon(evidence)
    assert derived.canon["palette_hex"] == ["#0B3D91", "#FFB81C"]
    assert derived.canon["forbidden_hex"] == ["#FF00FF"]
    [banned] = values(derived, "forbidden_hex")
    assert banned["evidence_ids"] == ["a", "c"]
    assert "declared by ['b']" in banned["note"]


def test_incidental_colours_stay_out_and_unlabelled_swatches_count_only_without_specs() -> None:
    swatch_only = empty_document("pdf", "swatches.pdf") | {"evidence_id": "s", "asset_id": "s1"}
    swatch_only["swatches"] = [{"hex": "#112233", "page": 1, "area_pct": 2.0},
                               {"hex": "#445566", "page": 1, "area_pct": 2.0}]
    swatch_only["colors"] = [
        {"hex": "#112233", "name": None, "notations": {"hex": "#112233"}, "context": "unlabelled fill", "page": 1,
         "role": "incidental", "source": "swatch"},
        {"hex": "#445566", "name": None, "notations": {"hex": "#445566"}, "context": "unlabelled fill", "page": 1,
         "role": "incidental", "source": "swatch"},
        {"hex": "#222222", "name": None, "notations": {"hex": "#222222"}, "context": "text colour", "page": 1,
         "role": "incidental", "source": "swatch"}]
    alone = derive_canon([swatch_only])
    assert alone.canon["palette_hex"] == ["#112233", "#445566"]  # no text specs anywhere: the swatches stand in
    assert "labelled swatches" in values(alone, "palette_hex")[0]["note"]
    with_specs = derive_canon([swatch_only, text_evidence("Ocean #0B3D91, Sun #FFB81C", "t")])
    assert with_specs.canon["palette_hex"] == ["#0B3D91", "#FFB81C"]


def test_image_palette_is_the_fallback_when_no_document_declares_colours(
        example: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    evidence, truth = example
    derived = derive_canon([evidence[1]])  # the logo alone
    assert derived.canon["palette_hex"] == truth["palette_hex"][:2]
    assert "dominant colour of logo" in values(derived, "palette_hex")[0]["note"]
    assert derived.missing == ["fonts", "voice.tone"]


def test_fonts_from_statements_then_font_files_and_embedded_only_as_a_fallback() -> None:
    statements = text_evidence("Headlines are set in Playfair Display Bold. Body copy: Inter.", "t")
    font_file = empty_document("font", "brand.woff2") | {"evidence_id": "f", "asset_id": "f1", "fonts": ["Recoleta"],
                                                          "font": {"family": "Recoleta", "style": "Regular",
                                                                   "full_name": "Recoleta Regular"}}
    embedded = empty_document("pdf", "book.pdf") | {"evidence_id": "p", "asset_id": "p1",
                                                    "fonts": ["DejaVu Sans", "Inter"]}
    derived = derive_canon([statements, font_file, embedded])
    assert derived.canon["fonts"] == ["Playfair Display", "Inter", "Recoleta"]
    assert values(derived, "fonts")[1]["evidence_ids"] == ["t", "p"]  # the PDF embeds the named font
    assert any("DejaVu Sans" in note for note in derived.notes)
    assert derive_canon([embedded]).canon["fonts"] == ["DejaVu Sans", "Inter"]


def test_fonts_capped_at_six() -> None:
    names = ", ".join(f"Family{chr(65 + index)}" for index in range(8))
    derived = derive_canon([text_evidence(f"Typefaces: {names}.", "t")])
    assert len(derived.canon["fonts"]) == 6
    assert any("more than 6" in note for note in derived.notes)


def test_logo_is_the_most_transparent_logo_evidence() -> None:
    def logo(asset_id: str, share: float, kind: str = "logo") -> dict[str, Any]:
        return empty_document(kind, f"{asset_id}.png") | {
            "evidence_id": f"e{asset_id}", "asset_id": asset_id,
            "logo": {"width": 100, "height": 100, "transparent_share": share}}

    assert derive_canon([logo("a1", 0.2), logo("b2", 0.5), logo("c3", 0.9, "image")]).canon["logo_asset_id"] == "b2"
    derived = derive_canon([logo("c3", 0.9, "image")])
    assert derived.canon["logo_asset_id"] == "c3"
    assert "no file was uploaded as a logo" in values(
        derived, "logo_asset_id")[0]["note"]


def test_missing_fields_are_reported_and_the_hook_refuses_with_a_422() -> None:
    derived = derive_canon([text_evidence("Ocean #0B3D91", "t")])
    assert derived.missing == ["palette_hex", "fonts", "voice.tone"]
    assert derive_canon([]).missing == ["palette_hex", "fonts", "voice.tone"]
    with pytest.raises(ValidationFailed) as raised:
        canon_extractor([text_evidence("Ocean #0B3D91\nSun #FFB81C\nTypeface: Inter", "t")])
    assert raised.value.status_code == 422
    assert raised.value.details == {"missing": ["voice.tone"]}
    assert "tone of voice" in raised.value.message


# --- merging a model's canon ------------------------------------------------------------------------------------

@pytest.fixture
def derived(example: tuple[list[dict[str, Any]], dict[str, Any]]) -> DerivedCanon:
    return derive_canon(example[0])


def test_explicit_values_win_and_disagreements_name_both_values(derived: DerivedCanon) -> None:
    model_canon = {"palette_hex": ["#123456", "#abcdef"], "fonts": ["Comic Sans"], "logo_safe_zone_pct": 25,
                   "voice": {"tone": "zany", "dos": ["x"], "donts": []}}
    merged = merge_model_canon(derived, model_canon, model="acme/model-1")
    assert merged.canon["palette_hex"] == derived.canon["palette_hex"]
    assert merged.canon["fonts"] == derived.canon["fonts"]
    assert merged.canon["logo_safe_zone_pct"] == derived.canon["logo_safe_zone_pct"]
    assert merged.canon["voice"] == derived.canon["voice"]
    for field, theirs in [("palette_hex", "#ABCDEF"), ("fonts", "Comic Sans"), ("logo_safe_zone_pct", "25"),
                          ("voice.tone", "zany"), ("voice.dos", "'x'")]:
        notes = [item["note"] for item in merged.provenance if item["field"] == field and item["note"]
                 and "acme/model-1" in item["note"]]
        assert notes, field
        assert theirs in notes[0], field
        assert "deterministic extraction gave" in notes[0], field
    assert derived.provenance == [item for item in merged.provenance if item in derived.provenance]
    validate_contract("canon.json", merged.canon)


def test_agreeing_model_adds_no_disagreement(derived: DerivedCanon) -> None:
    merged = merge_model_canon(derived, json.loads(json.dumps(derived.canon)), model="m")
    assert merged.provenance == derived.provenance
    assert merged.canon == derived.canon


def test_model_fills_gaps_the_documents_leave() -> None:
    derived = derive_canon([text_evidence("Ocean #0B3D91\nSun #FFB81C\nTypeface: Inter", "t")])
    assert derived.missing == ["voice.tone"]
    # 'bad' is a 3-digit hex, not the canon's 6-digit form
    merged = merge_model_canon(derived, {"palette_hex": ["#0B3D91", "#FFB81C"], "forbidden_hex": ["#0B3D91", "bad"],
                                         "fonts": ["Inter"], "logo_safe_zone_pct": 12,
                                         "voice": {"tone": "friendly", "dos": ["Be brief"], "donts": ["Shout"]}},
                               model="acme/m")
    assert merged.missing == []
    assert merged.canon["voice"] == {"tone": "friendly", "dos": ["Be brief"], "donts": ["Shout"]}
    assert merged.canon["forbidden_hex"] == []  # the model may not ban a declared colour
    assert merged.canon["logo_safe_zone_pct"] == 12.0  # the documents only gave the default
    tone = [item for item in merged.provenance if item["field"] == "voice.tone"]
    assert tone == [{"field": "voice.tone", "value": "friendly", "evidence_ids": [], "source": "model",
                     "note": "filled by model acme/m: the documents give none"}]
    validate_contract("canon.json", merged.canon)


def test_two_uploaded_logos_become_versions_for_light_and_dark_backgrounds() -> None:
    def logo(asset_id: str, palette: list[tuple[str, float]], *, opaque: bool = False,
             purpose: str | None = None, kind: str = "logo") -> dict[str, Any]:
        return {"kind": kind, "asset_id": asset_id, "evidence_id": f"ev-{asset_id}", "source": f"{asset_id}.png",
                "purpose": purpose, "palette": [{"hex": hex_value, "share": share} for hex_value, share in palette],
                "logo": None if opaque else {"width": 300, "height": 100, "transparent_share": 0.6}}

    navy = logo("navy", [("#0A2540", 0.8), ("#635BFF", 0.2)])
    white = logo("white", [("#FFFFFF", 0.9), ("#00D4FF", 0.1)])
    on_black = logo("jpeg", [("#111111", 0.7), ("#FFFFFF", 0.3)], opaque=True, purpose="logo", kind="image")
    photo = logo("photo", [("#FFFFFF", 1.0)], purpose="example")  # a transparent PNG uploaded as an example
    derived = derive_canon([navy, white, on_black, photo])
    assert derived.canon["logo_versions"] == [{"asset_id": "navy", "use_on": "light"},
                                              {"asset_id": "white", "use_on": "dark"},
                                              {"asset_id": "jpeg", "use_on": "dark"}]
    notes = [entry["note"] for entry in values(derived, "logo_versions")]
    assert "100% of its ink reaches 3:1 on white" in notes[0]
    assert "an opaque logo on #111111" in notes[2]
    validate_contract("canon.json", derived.canon | {"fonts": ["Inter"], "voice": {"tone": "plain"},
                                                     "palette_hex": ["#0A2540", "#FFFFFF"]})
    assert "logo_versions" not in derive_canon([navy, photo]).canon  # one logo: render derives its knockout
