"""Colour roles, usage rules and the personality read from a guideline's words, with provenance; inferred (and
marked so) where the documents are silent."""

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgd.canon.derive import derive_canon
from sgd.canon.usage import derive_colour_usage, inferred_personality
from sgd.guardrails import contract_errors

PALETTE = ["#0A2342", "#FFFFFF", "#FF2D87", "#C9B79C"]
COLOURS = [{"hex": "#0A2342", "name": "Harbour Navy", "role": "declared"},
           {"hex": "#FFFFFF", "name": "Paper", "role": "declared"},
           {"hex": "#FF2D87", "name": "Hot Pink", "role": "declared"},
           {"hex": "#C9B79C", "name": "Sand", "role": "declared"}]


def evidence(text: str) -> list[dict[str, Any]]:
    return [{"evidence_id": "ev-1", "asset_id": "a1", "kind": "pdf", "text": text, "colors": COLOURS,
             "statements": {}}]


def usage(text: str) -> Any:
    return derive_colour_usage(evidence(text), PALETTE, lambda item: item["evidence_id"])


@pytest.mark.parametrize(("sentence", "kind", "hex_value"), [
    ("Hot Pink is for calls to action only.", "cta_only", "#FF2D87"),
    ("Use Hot Pink exclusively on buttons.", "cta_only", "#FF2D87"),
    ("Never use Sand as a background.", "never_background", "#C9B79C"),
    ("Do not place text on Hot Pink.", "no_text_on", "#FF2D87"),
    ("Never use Sand for text.", "never_text", "#C9B79C"),
    ("Reserve #FF2D87 for the call to action only.", "cta_only", "#FF2D87"),
])
def test_a_usage_sentence_becomes_a_rule_citing_its_evidence(sentence: str, kind: str, hex_value: str) -> None:
    found = usage(f"Colour\n{sentence}\nTypography comes next.")
    assert {"kind": kind, "hex": hex_value, "statement": sentence} in found.rules
    entry = next(entry for entry in found.provenance if entry["field"] == "usage_rules")
    assert entry["evidence_ids"] == ["ev-1"]
    assert entry["source"] == "deterministic"


@pytest.mark.parametrize("sentence", [
    "Hot Pink is bright and loud.",  # a colour, no rule
    "Buttons are rounded.",  # a rule word, no colour
    "Hot Pink and Sand are never backgrounds.",  # two colours: ambiguous, no rule
])
def test_sentences_without_an_unambiguous_rule_give_none(sentence: str) -> None:
    assert usage(sentence).rules == []


def test_a_split_over_named_colours_becomes_proportions_in_order() -> None:
    found = usage("Balance Harbour Navy, Paper and Hot Pink at 60/30/10 in every layout.")
    proportions = {rule["hex"]: (rule["min_pct"], rule["max_pct"]) for rule in found.rules
                   if rule["kind"] == "proportion"}
    assert proportions == {"#0A2342": (60.0, 60.0), "#FFFFFF": (30.0, 30.0), "#FF2D87": (10.0, 10.0)}


def test_a_share_with_a_bound_becomes_a_one_sided_proportion() -> None:
    found = usage("Hot Pink should cover no more than 10% of a layout.")
    assert {"kind": "proportion", "hex": "#FF2D87", "min_pct": None, "max_pct": 10.0,
            "statement": "Hot Pink should cover no more than 10% of a layout."} in found.rules


def test_stated_roles_win_and_the_rest_are_inferred_and_marked_so() -> None:
    found = usage("Harbour Navy is our primary colour.\nSand is an accent colour.")
    assert found.roles["#0A2342"] == "primary"
    assert found.roles["#C9B79C"] == "accent"
    assert set(found.roles) == set(PALETTE)
    sources = {entry["field"]: entry["source"] for entry in found.provenance}
    assert sources["color_roles.#0A2342"] == "deterministic"
    assert sources["color_roles.#FFFFFF"] == "inferred"
    assert found.roles["#FFFFFF"] == "background"


def test_the_personality_is_inferred_from_the_voice_only_when_the_voice_says_something() -> None:
    fields, provenance = inferred_personality({"tone": "calm, precise, professional", "dos": [], "donts": []})
    assert fields is not None
    assert fields["energy"] < 0.5
    assert fields["playfulness"] < 0.5
    assert provenance[0]["source"] == "inferred"
    assert "calm" in provenance[0]["note"]
    assert inferred_personality({"tone": "", "dos": [], "donts": []}) == (None, [])


def test_a_derived_canon_carries_roles_rules_and_personality_and_is_valid() -> None:
    documents = evidence("Our tone of voice is bold and playful.\nHot Pink is for calls to action only.")
    documents[0]["statements"] = {"tone": ["Our tone of voice is bold and playful."]}
    derived = derive_canon(documents)
    canon = derived.canon
    assert canon["usage_rules"][0]["kind"] == "cta_only"
    assert set(canon["color_roles"]) == set(canon["palette_hex"])
    assert canon["personality"] is not None
    assert canon["personality"]["playfulness"] > 0.5
    complete = {**canon, "fonts": ["Inter"], "voice": canon["voice"] | {"tone": "bold"}}
    assert contract_errors("canon.json", complete) == []


def test_a_markdown_colour_table_with_role_and_usage_columns_gives_roles_and_rules() -> None:
    from sgd.ingest.admission import AdmittedFile
    from sgd.ingest.extract import extract

    markdown = ("# Colour\n\n| Name | Hex | Role | Usage |\n|---|---|---|---|\n"
                "| Harbour Navy | #0A2342 | Primary colour | at most 40% of a layout |\n"
                "| Hot Pink | #FF2D87 | Highlight | Buttons only |\n"
                "| Sand | #C9B79C | Supporting | Never behind text, never as a background |\n\n"
                "Typeface: Inter. Tone: calm.\n")
    document = extract(AdmittedFile("text", "text/markdown", "md", markdown.encode()), source="g.md").document
    assert [colour.get("role") for colour in document["colors"]] == ["declared"] * 3  # a usage cell bans nothing
    found = derive_colour_usage([document | {"evidence_id": "ev-md"}], ["#0A2342", "#FF2D87", "#C9B79C"],
                                lambda item: item["evidence_id"])
    assert found.roles == {"#0A2342": "primary", "#FF2D87": "accent", "#C9B79C": "secondary"}
    assert [(rule["kind"], rule["hex"], rule.get("min_pct"), rule.get("max_pct")) for rule in found.rules] == [
        ("proportion", "#0A2342", None, 40.0), ("cta_only", "#FF2D87", None, None),
        ("never_background", "#C9B79C", None, None)]
    assert all(entry["evidence_ids"] == ["ev-md"] for entry in found.provenance if entry["source"] != "inferred")


@pytest.mark.parametrize(("text", "minimum", "plate"), [
    ("The logo is never smaller than 80 px wide on screen.", 80.0, False),
    ("Minimum size: the logotype must be at least 120 pixels across.", 120.0, False),
    ("Always place the logo on a white plate.", None, True),
    ("Never put the logo in a box. Keep the logo at a minimum of 25 mm in print.", 95.0, False),
    ("The logo is never smaller than 1 inch wide.", 96.0, False),
    ("Minimum size: the logo must be at least 20 mm (print) or 60 px (screen) wide.", 60.0, False),
    ("Our logo is a wordmark.", None, False),
])
def test_the_logo_s_minimum_width_and_plate_are_read_from_the_guideline(text: str, minimum: float | None,
                                                                        plate: bool) -> None:
    from sgd.canon.derive import derive_canon

    derived = derive_canon([{"evidence_id": "ev-1", "asset_id": "a1", "kind": "text", "text": text, "colors": [],
                             "statements": {}}])
    assert derived.canon.get("logo_min_width_px") == minimum
    assert derived.canon.get("logo_plate", False) is plate
    cited = [entry for entry in derived.provenance if entry["field"] in ("logo_min_width_px", "logo_plate")]
    assert all(entry["evidence_ids"] == ["ev-1"] for entry in cited)
    if "px" not in text and ("mm" in text or "inch" in text):  # converted from print units, and the provenance says how
        assert "print units only" in cited[0]["note"]
        assert "96 px per inch" in cited[0]["note"]


@pytest.mark.parametrize(("sentence", "pixels"), [
    ("at least 25 mm", 95.0),  # 25 / 25.4 * 96 = 94.49, rounded up so the minimum holds
    ("at least 2.5 cm", 95.0),
    ("never below 1 in wide", 96.0),
    ('minimum 0.75" across', 72.0),
    ("minimum 12 millimetres", 46.0),  # 45.35
    ("minimum 1,5 cm", 57.0),  # a decimal comma; 56.69
    ("minimum 1 mm", None),  # 4 px: below the canon's bounds (8 px), not a usable minimum
    ("the logo has no stated size", None),
])
def test_a_print_minimum_converts_at_the_css_reference_pixel(sentence: str, pixels: float | None) -> None:
    from sgd.canon.usage import CSS_PX_PER_INCH, print_minimum_px

    assert CSS_PX_PER_INCH == 96.0
    converted = print_minimum_px(sentence)
    assert (converted[0] if converted else None) == pixels


@settings(max_examples=60, deadline=None)
@given(millimetres=st.floats(3, 500), unit=st.sampled_from(["mm", "cm", "in"]))
def test_a_print_minimum_is_never_rounded_below_its_length(millimetres: float, unit: str) -> None:
    from sgd.canon.usage import print_minimum_px

    value = round(millimetres / {"mm": 1, "cm": 10, "in": 25.4}[unit], 2)
    converted = print_minimum_px(f"at least {value} {unit}")
    inches = value / {"mm": 25.4, "cm": 2.54, "in": 1}[unit]
    if converted is None:
        assert not 8 <= math.ceil(inches * 96 - 1e-6) <= 2000
    else:
        assert inches * 96 - 1e-6 <= converted[0] < inches * 96 + 1
