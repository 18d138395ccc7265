import copy
import itertools
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sgd.contracts.render import RenderRequest
from sgd.design.color import contrast_ratio
from sgd.design.planner import (
    FALLBACK_HEADLINE,
    NEUTRAL_PALETTE,
    choose_colors,
    derive_headline,
    infer_cta,
    palette_in_use,
    rule_based_plan,
    template_for,
)
from sgd.guardrails import contract_errors

COLOR_KEYS = ("background_hex", "text_hex", "accent_hex")
CANON: dict[str, Any] = {
    "palette_hex": ["#0A2540", "#FFFFFF", "#635BFF", "#00D4FF", "#F6F9FC"],
    "forbidden_hex": ["#FF0000"],
    "fonts": ["Inter"],
    "voice": {"tone": "Confident and plain", "dos": ["Be specific"], "donts": ["Hype"]},
    "logo_safe_zone_pct": 10.0,
    "logo_asset_id": "logo-1",
}


def render_request(instruction: str = "Make a banner", *, task: str = "create", dimensions: str = "1080x1080",
                   references: list[str] | None = None, constraints: dict[str, Any] | None = None,
                   count: int = 1) -> dict[str, Any]:
    """A request exactly as the render function hands it over: validated, then dumped by alias."""
    body = {"project_id": "spring", "prompts": {"task": task, "instruction": instruction,
                                                "references": references or []},
            "outputs": {"count": count, "format": "png", "dimensions": dimensions}, "constraints": constraints}
    return RenderRequest.model_validate(body).model_dump(by_alias=True)


def plan_for(instruction: str, canon: dict[str, Any] | None = CANON, **request: Any) -> dict[str, Any]:
    plan = rule_based_plan(instruction, canon, render_request(instruction, **request))
    assert contract_errors("render_plan.json", plan) == []
    return plan


def layout_colors(plan: dict[str, Any]) -> set[str]:
    return {plan["layout"][key] for key in COLOR_KEYS if key in plan["layout"]}


def canon_with(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(CANON) | changes


# A voice that says nothing of the brand's personality: the size alone chooses the template.
QUIET_CANON = canon_with(voice={"tone": "", "dos": [], "donts": []})
BANK_VOICE = {"tone": "calm, trustworthy, professional", "dos": ["Be clear and precise"],
              "donts": ["No exclamation marks", "No slang"]}
GAMES_VOICE = {"tone": "bold, playful, energetic, vibrant", "dos": ["Be fun and cheeky"], "donts": ["Never be boring"]}


# --- headline and subline ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("instruction", "headline"), [
    ('Create a launch banner with the headline "Meet Nova 2.0" for LinkedIn', "Meet Nova 2.0"),
    ("Poster saying \u201cDon\u2019t miss the After-Party!\u201d in neon", "Don\u2019t miss the After-Party!"),
    ("Story with \u2018summer, finally\u2019 in big letters", "summer, finally"),
    ("Banner mit \u201eSommer Sale\u201c und Palmen", "Sommer Sale"),
    ("Affiche \u00abSoldes d\u2019\u00e9t\u00e9\u00bb en rouge", "Soldes d\u2019\u00e9t\u00e9"),
    ("Banner saying 'Don't stop now' for the kids' club", "Don't stop now"),
    ('Headline: "  spaced out  " please', "spaced out"),
])
def test_quoted_text_is_the_headline_verbatim(instruction: str, headline: str) -> None:
    assert plan_for(instruction)["layout"]["headline"] == headline


def test_second_quotation_is_the_subline() -> None:
    layout = plan_for('Poster: "Summer Sale" and underneath "Up to 50% off all shoes"')["layout"]
    assert (layout["headline"], layout["subline"]) == ("Summer Sale", "Up to 50% off all shoes")


def test_apostrophes_and_inch_marks_are_not_quotations() -> None:
    assert plan_for("Poster for the kids' party, rock 'n' roll theme")["layout"]["headline"] == "Kids' Party"
    assert plan_for('A 24" x 36" poster for the spring fair')["layout"]["headline"] == "Spring Fair"


def test_overlong_quotation_is_cut_at_a_word_within_the_limit() -> None:
    quoted = " ".join(["word"] * 60)
    headline = plan_for(f'Poster with the headline "{quoted}"')["layout"]["headline"]
    assert len(headline) <= 120
    assert headline.endswith("\u2026")
    assert quoted.startswith(headline[:-1])


@pytest.mark.parametrize(("instruction", "headline"), [
    ("Design an Instagram post for our summer sale with bright colours and palm trees", "Summer Sale"),
    ("Create a 1200x628 LinkedIn banner for our new AI analytics platform launch. Use bold type.",
     "New AI Analytics Platform Launch"),
    ("Please make a poster about climate week", "Climate Week"),
    ("Summer sale banner, 50% off everything", "Summer Sale"),
    ("Create a 16:9 banner for the Berlin Jazz Festival 2025", "Berlin Jazz Festival 2025"),
    ("Could you put together a flyer promoting back-to-school deals at our store?",
     "Back-to-School Deals at Our Store"),
    ("A calm poster of mountains at dawn", "Mountains at Dawn"),
    ("Create a poster. Headline: Get ready for summer", "Get Ready for Summer"),  # request words open only
    ("Summer sale banner for Instagram", "Summer Sale"),
    ("Generate three bold, colourful Instagram posts for the grand opening of Caf\u00e9 Ol\u00e9 in Lisbon this Friday",
     "Grand Opening of Caf\u00e9 Ol\u00e9 in Lisbon"),
])
def test_headline_is_derived_from_the_subject(instruction: str, headline: str) -> None:
    assert plan_for(instruction)["layout"]["headline"] == headline


def test_derived_headline_is_short() -> None:
    headline = derive_headline("Make a banner for alpha bravo charlie delta echo foxtrot golf hotel india juliet")
    assert headline == "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel"


@pytest.mark.parametrize(("instruction", "headline"), [
    ("Create a poster", "Create a Poster"),  # nothing but scaffolding: the request's own words
    ("!!!!! ???", FALLBACK_HEADLINE),
    ("\u201c\u201d  ''  \"\"", FALLBACK_HEADLINE),
])
def test_headline_is_never_empty(instruction: str, headline: str) -> None:
    assert plan_for(instruction)["layout"]["headline"] == headline


def test_subline_from_announcing_or_featuring_without_repeating_the_headline() -> None:
    layout = plan_for("Create a banner announcing our new store opening featuring live music and free coffee")["layout"]
    assert (layout["headline"], layout["subline"]) == ("New Store Opening", "Live music and free coffee")
    assert "subline" not in plan_for("Make a poster about climate week")["layout"]
    assert "subline" not in plan_for("Summer sale banner")["layout"]


# --- CTA ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("instruction", "cta"), [
    ('Product banner, CTA: "Join the beta"', "Join the beta"),
    ("Restaurant post with the call to action \u201cBook a table\u201d", "Book a table"),
    ("Sale poster, CTA: browse deals. Bright colours", "Browse deals"),
    ("Hero image with a button saying Get started", "Get started"),
    ('Drop announcement with a "Shop the drop" button', "Shop the drop"),
    ("Poster with a big download now button", "Download now"),
    ("Banner for our spring sale", "Shop now"),
    ("Announce our webinar on data privacy", "Register"),
    ("Promote our new fitness app", "Get the app"),
    ("A poster for the jazz festival", "Get tickets"),
    ("Introducing our new product line", "Learn more"),
])
def test_cta_explicit_or_inferred(instruction: str, cta: str) -> None:
    assert plan_for(instruction)["layout"]["cta"] == cta


def test_explicit_cta_copy_is_neither_headline_nor_subline() -> None:
    layout = plan_for('Poster "Summer Sale" with a "Shop now" button')["layout"]
    assert (layout["headline"], layout["cta"]) == ("Summer Sale", "Shop now")
    assert "subline" not in layout


@pytest.mark.parametrize(("instruction", "task"), [
    ("A calm poster of mountains at dawn", "create"),
    ("Banner with a clear call to action and bright colours", "create"),
    ("Make the sale banner background blue", "edit"),  # an edit does not get an invented CTA
])
def test_no_cta_when_none_is_asked_for_or_implied(instruction: str, task: str) -> None:
    assert "cta" not in plan_for(instruction, task=task, references=["ref1"])["layout"]


def test_cta_intent_table_prefers_specific_intents() -> None:
    assert infer_cta("launch event for our platform") == "Register"
    assert infer_cta("a new app") == "Get the app"
    assert infer_cta("apply the apparel style") is None  # words, not substrings


# --- template ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dimensions", "template"), [
    ("1080x1080", "hero"), ("1200x1100", "hero"), ("1299x1000", "hero"), ("1000x1190", "hero"),
    ("1300x1000", "split"), ("1200x628", "split"), ("1920x1080", "split"), ("2499x1000", "split"),
    ("2500x1000", "band"), ("1500x500", "band"), ("970x250", "band"),
    ("728x90", "strip"), ("320x50", "strip"), ("320x100", "strip"), ("2000x400", "strip"),
    ("1000x1200", "stack"), ("1080x1350", "stack"), ("1080x1920", "stack"),
    ("300x600", "tower"), ("160x600", "tower"), ("64x4096", "tower"),
])
def test_template_follows_the_aspect_ratio(dimensions: str, template: str) -> None:
    assert plan_for("Summer sale", QUIET_CANON, dimensions=dimensions)["layout"]["template"] == template


@pytest.mark.parametrize("dimensions", ["1080x1080", "1200x628", "1080x1350", "1500x500"])
def test_a_calm_bank_and_a_playful_games_studio_get_different_templates(dimensions: str) -> None:
    bank = plan_for("Summer sale", canon_with(voice=BANK_VOICE), dimensions=dimensions)["layout"]["template"]
    games = plan_for("Summer sale", canon_with(voice=GAMES_VOICE), dimensions=dimensions)["layout"]["template"]
    assert bank != games
    assert bank in ("editorial", "split", "frame", "stack", "band")  # the calm, formal templates
    assert games in ("diagonal", "spotlight", "hero")  # the energetic, playful ones


def test_a_stated_personality_overrides_the_voice() -> None:
    stated = canon_with(voice=GAMES_VOICE, personality={"energy": 0.1, "playfulness": 0.1, "richness": 0.1})
    assert plan_for("Summer sale", stated, dimensions="1200x628")["layout"]["template"] == "editorial"


@given(st.integers(32, 4096), st.integers(32, 4096))
def test_template_table_matches_the_ratio_rules(width: int, height: int) -> None:
    ratio = width / height
    if (height < 120 and ratio >= 2) or ratio >= 4.5:
        expected = "strip"  # banners too short for a stacked copy block
    elif ratio >= 2.5:
        expected = "band"
    elif ratio >= 1.3:
        expected = "split"
    elif ratio >= 0.84:
        expected = "hero"
    elif ratio >= 0.52:
        expected = "stack"
    else:
        expected = "tower"  # skyscrapers
    assert template_for(width, height) == expected


# --- colours -----------------------------------------------------------------------------------------------------


def test_colours_come_from_the_canon_palette_with_the_best_contrast_pair() -> None:
    layout = plan_for("Summer sale")["layout"]
    assert (layout["background_hex"], layout["text_hex"]) == ("#0A2540", "#FFFFFF")
    assert layout["accent_hex"] == "#00D4FF"  # the most colourful of the rest, and visible on the navy


def test_forbidden_colours_are_never_used() -> None:
    canon = canon_with(palette_hex=["#000000", "#ffffff", "#767676", "#FF5500"], forbidden_hex=["#000000"])
    plan = plan_for("Summer sale", canon)
    assert "#000000" not in layout_colors(plan)
    assert (plan["layout"]["background_hex"], plan["layout"]["text_hex"]) == ("#FFFFFF", "#767676")
    assert "#000000" not in plan["layout"]["imagery_prompt"]


def test_requested_palette_narrows_the_canon() -> None:
    plan = plan_for("Summer sale", constraints={"palette_hex": ["#635bff", "#FFFFFF", "#ABCDEF"]})
    assert layout_colors(plan) == {"#635BFF", "#FFFFFF"}  # #ABCDEF is not in the canon
    assert plan["safety"]["palette_only"] is True


def test_requested_palette_outside_the_canon_is_ignored_without_override() -> None:
    plan = plan_for("Summer sale", constraints={"palette_hex": ["#123456", "#FEDCBA"]})
    assert layout_colors(plan) <= set(CANON["palette_hex"])


def test_override_lets_the_requested_palette_replace_the_canon_but_not_its_forbidden_colours() -> None:
    plan = plan_for("Summer sale", constraints={"palette_hex": ["#123456", "#FEDCBA", "#ff0000"], "override": True})
    assert layout_colors(plan) == {"#123456", "#FEDCBA"}
    assert plan["safety"]["palette_only"] is False


def test_a_single_requested_colour_is_topped_up_from_the_canon() -> None:
    request = render_request(constraints={"palette_hex": ["#635BFF"]})
    assert palette_in_use(CANON, request) == ["#635BFF", "#0A2540", "#FFFFFF", "#00D4FF", "#F6F9FC"]


def test_neutral_palette_without_canon_or_constraints() -> None:
    plan = plan_for("Summer sale", None)
    layout = plan["layout"]
    assert [layout["background_hex"], layout["text_hex"], layout["accent_hex"]] == list(NEUTRAL_PALETTE)
    assert contrast_ratio(layout["background_hex"], layout["text_hex"]) >= 4.5


def test_without_canon_the_requested_palette_is_the_palette() -> None:
    plan = plan_for("Summer sale", None, constraints={"palette_hex": ["#FFF8E7", "#3B1F0E", "#D9480F"]})
    assert (plan["layout"]["background_hex"], plan["layout"]["text_hex"], plan["layout"]["accent_hex"]) == (
        "#FFF8E7", "#3B1F0E", "#D9480F")


def test_a_canon_that_forbids_its_whole_palette_gets_no_colours() -> None:
    plan = plan_for("Summer sale", canon_with(palette_hex=["#111111", "#EEEEEE"], forbidden_hex=["#111111", "#eeeeee"]))
    assert layout_colors(plan) == set()


def test_accent_prefers_a_colour_a_button_shows_up_with() -> None:
    # Yellow is the most colourful but nearly invisible on white (1.07:1); blue passes 3:1.
    colors = choose_colors(["#FFFFFF", "#000000", "#FFFF00", "#0055FF"])
    assert colors == {"background_hex": "#FFFFFF", "text_hex": "#000000", "accent_hex": "#0055FF"}
    assert choose_colors(["#FFFFFF", "#000000"])["accent_hex"] == "#000000"  # two colours: the text colour


# --- logo and safety --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("instruction", "canon", "position"), [
    ("Summer sale", QUIET_CANON, "top-left"),  # the hero template's corner
    ("Summer sale, logo bottom-left", CANON, "bottom-left"),
    ("Summer sale; put our logo in the upper right corner", CANON, "top-right"),
    ("Summer sale with a bottom right logo", None, "bottom-right"),
    ("Summer sale with our logo", None, "top-left"),
    ("Summer sale without logo", CANON, "none"),
    ("Summer sale", None, "none"),
])
def test_logo_position(instruction: str, canon: dict[str, Any] | None, position: str) -> None:
    assert plan_for(instruction, canon)["layout"]["logo_position"] == position


def test_logo_corner_stays_away_from_the_copy_per_template() -> None:
    corners = {dims: plan_for("Summer sale", QUIET_CANON, dimensions=dims)["layout"]["logo_position"]
               for dims in ("1080x1080", "1200x628", "1500x500", "1080x1920")}
    assert corners == {"1080x1080": "top-left", "1200x628": "bottom-right", "1500x500": "top-left",
                       "1080x1920": "bottom-right"}


def test_safety_flags() -> None:
    assert plan_for("Summer sale")["safety"] == {"respect_logo_safe_zone": True, "palette_only": True}
    assert plan_for("Summer sale", None)["safety"] == {"respect_logo_safe_zone": False, "palette_only": True}
    no_logo_but_zone = canon_with(logo_asset_id=None, logo_safe_zone_pct=12.0)
    assert plan_for("Summer sale", no_logo_but_zone)["safety"]["respect_logo_safe_zone"] is True
    no_logo_no_zone = canon_with(logo_asset_id=None, logo_safe_zone_pct=0)
    assert plan_for("Summer sale", no_logo_no_zone)["safety"]["respect_logo_safe_zone"] is False
    zone_requested = plan_for("Summer sale", None, constraints={"logo_safe_zone_pct": 8, "override": True})
    assert zone_requested["safety"] == {"respect_logo_safe_zone": True, "palette_only": False}


# --- ops ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("instruction", "task", "references", "ops"), [
    ("Summer sale poster", "create", [], ["text_overlay"]),
    ("Summer sale poster", "create", ["a"], ["text_overlay"]),
    ("Combine these product shots", "create", ["a", "b"], ["multi_image_fusion", "text_overlay"]),
    ("A poster in the style of the reference", "create", ["a"], ["style_transfer", "text_overlay"]),
    ("A poster in the style of Bauhaus", "create", [], ["text_overlay"]),  # no reference to take the style from
    ("Make the sky warmer", "edit", ["a"], ["local_edit", "text_overlay"]),
    ("Remove the person on the left", "edit", ["a"], ["inpaint", "text_overlay"]),
    ("Fill the empty corner with plants", "edit", ["a"], ["inpaint", "text_overlay"]),
    ('Change the headline to "Remove the clutter"', "edit", ["a"], ["local_edit", "text_overlay"]),
    ("Three fresh takes", "variations", ["a"], ["style_transfer", "text_overlay"]),
])
def test_ops_per_task(instruction: str, task: str, references: list[str], ops: list[str]) -> None:
    assert plan_for(instruction, task=task, references=references)["ops"] == ops


# --- goal and imagery prompt -------------------------------------------------------------------------------------


def test_goal_names_task_size_template_headline_and_cta() -> None:
    goal = plan_for('Poster "Summer Sale" for our spring sale', dimensions="1200x628", count=2)["goal"]
    assert goal == ("Create 2 1200x628 split-layout designs with the headline \u201cSummer Sale\u201d "
                    "and a \u201cShop now\u201d call to action.")
    edit_goal = plan_for("Remove the person", task="edit", references=["a"])["goal"]
    assert edit_goal.startswith("Edit the reference image with inpainting")


def test_imagery_prompt_drops_the_copy_and_guides_the_image_model() -> None:
    prompt = plan_for('Create a 1200x628 banner with the headline "Big Summer Sale" and palm trees, '
                      'CTA: "Shop now"', dimensions="1200x628")["layout"]["imagery_prompt"]
    assert "Big Summer Sale" not in prompt
    assert "Shop now" not in prompt
    assert "1200x628" not in prompt
    assert "palm trees" in prompt
    assert "No text, letters, logos or watermarks" in prompt
    assert "Keep the left half, plus the bottom right corner, calm and uncluttered" in prompt
    assert all(color in prompt for color in CANON["palette_hex"])


def test_imagery_prompt_fits_even_for_the_longest_instruction() -> None:
    prompt = plan_for("palm trees and waves " * 95, QUIET_CANON)["layout"]["imagery_prompt"]
    assert len(prompt) <= 1000
    assert "\u2026 Keep the centre" in prompt


# --- determinism and input handling -----------------------------------------------------------------------------


def test_same_inputs_same_plan_and_inputs_untouched() -> None:
    canon, request = copy.deepcopy(CANON), render_request("Poster for our spring sale", references=["a", "b"])
    frozen = copy.deepcopy((canon, request))
    first = rule_based_plan("Poster for our spring sale", canon, request)
    assert rule_based_plan("Poster for our spring sale", canon, request) == first
    assert (canon, request) == frozen


@pytest.mark.slow  # spawns fresh interpreters
def test_plan_does_not_depend_on_hash_seed() -> None:
    # Set iteration order changes with PYTHONHASHSEED; a plan must not.
    script = (
        "import json, sys\n"
        "from sgd.design.planner import rule_based_plan\n"
        "cases = json.loads(sys.stdin.read())\n"
        "print(json.dumps([rule_based_plan(i, c, r) for i, c, r in cases], sort_keys=True))\n"
    )
    cases = [
        ["Poster for our spring sale, logo top right", CANON, render_request(dimensions="1200x628")],
        ["Summer sale", None, render_request(constraints={"palette_hex": ["#111111", "#EEEEEE", "#FF8800"]})],
        ['Edit: remove the car, headline "Quiet streets"', CANON, render_request(task="edit", references=["a"])],
        ["Summer sale", canon_with(palette_hex=["#777777", "#888888", "#999999", "#AAAAAA"]), render_request()],
    ]
    outputs = {
        subprocess.run([sys.executable, "-c", script], input=json.dumps(cases), capture_output=True, text=True,
                       check=True, env=os.environ | {"PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert json.loads(outputs.pop())[0]["layout"]["logo_position"] == "top-right"


def test_malformed_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        rule_based_plan("Summer sale", None, {"prompts": {"task": "delete"}})
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        rule_based_plan("Summer sale", None, {"prompts": {"task": "create"}, "outputs": {"dimensions": "big"}})


# --- properties --------------------------------------------------------------------------------------------------

hex_colors = st.from_regex(r"#[0-9A-F]{6}", fullmatch=True)
# Fragments that steer generated instructions into the planner's rules: quotes of every kind, CTA and logo
# phrases, pivots, intent words, sizes.
FRAGMENTS = [
    '"', "'", "\u201c", "\u201d", "\u2018", "\u2019", "\u201e", "\u00ab", "\u00bb", "CTA:", "call to action",
    "button saying", "with a", "button", "logo", "top right", "bottom-left", "without logo", "for", "about",
    "featuring", "announcing", "the headline", "in the style of", "remove", "sale", "webinar", "app", "new",
    "1200x628", "16:9", '24"', "x", "\n", ",", ".", "Create a poster", "please", "kids'", "don't", "\u2014",
]
instructions = st.one_of(
    st.text(min_size=5, max_size=2000),
    st.text(alphabet=st.sampled_from(list("\"'\u201c\u201d\u2018\u2019 aZ\u00e9\u4e2d.,:\n")), min_size=5,
            max_size=200),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), min_size=1, max_size=60)
    .map(" ".join).filter(lambda text: 5 <= len(text) <= 2000),
)


@st.composite
def canons(draw: st.DrawFn) -> dict[str, Any]:
    palette = draw(st.lists(hex_colors, min_size=2, max_size=24, unique=True))
    palette = [color.lower() if draw(st.booleans()) else color for color in palette]
    forbidden_from_palette = draw(st.lists(st.sampled_from(palette), max_size=len(palette), unique=True))
    forbidden_elsewhere = draw(st.lists(hex_colors.filter(lambda color: color not in palette), max_size=4,
                                        unique=True))
    canon = {
        "palette_hex": palette,
        "forbidden_hex": (forbidden_from_palette + forbidden_elsewhere)[:24],
        "fonts": ["Inter"],
        "voice": {"tone": "Plain"},
        "logo_safe_zone_pct": draw(st.floats(0, 40)),
        "logo_asset_id": draw(st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))),
    }
    assert contract_errors("canon.json", canon) == []
    return canon


@st.composite
def requests(draw: st.DrawFn, canon: dict[str, Any] | None, instruction: str) -> dict[str, Any]:
    width, height = draw(st.integers(64, 4096)), draw(st.integers(64, 4096))
    own_colors = canon["palette_hex"] if canon else []
    constraints = draw(st.one_of(st.none(), st.fixed_dictionaries({
        "palette_hex": st.lists(st.one_of(hex_colors, st.sampled_from(own_colors)) if own_colors else hex_colors,
                                max_size=12),
        "logo_safe_zone_pct": st.one_of(st.none(), st.floats(0, 40)),
        "override": st.booleans(),
    })))
    return render_request(instruction, task=draw(st.sampled_from(["create", "edit", "variations"])),
                          dimensions=f"{width}x{height}", count=draw(st.integers(1, 6)),
                          references=[f"ref{n}" for n in range(draw(st.integers(0, 8)))], constraints=constraints)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), instruction=instructions, canon=st.one_of(st.none(), canons()))
def test_any_input_gives_a_valid_plan_within_the_palette(data: st.DataObject, instruction: str,
                                                         canon: dict[str, Any] | None) -> None:
    request = data.draw(requests(canon, instruction))
    plan = rule_based_plan(instruction, canon, request)

    assert contract_errors("render_plan.json", plan) == []
    assert any(char.isalnum() for char in plan["layout"]["headline"])
    palette = palette_in_use(canon, request)
    assert layout_colors(plan) <= set(palette)
    if canon is not None:
        forbidden = {color.upper() for color in canon.get("forbidden_hex", [])}
        assert forbidden.isdisjoint(palette)
        if not (request["constraints"] or {}).get("override"):
            assert set(palette) <= {color.upper() for color in canon["palette_hex"]}
    if len(palette) >= 2:
        best = max(contrast_ratio(a, b) for a, b in itertools.combinations(palette, 2))
        assert contrast_ratio(plan["layout"]["background_hex"], plan["layout"]["text_hex"]) == best
    assert rule_based_plan(instruction, canon, request) == plan


copy_text = st.text(
    alphabet=st.characters(exclude_characters="\"'\u201c\u201d\u201e\u00ab\u00bb\u2018\u2019",
                           exclude_categories=["Cs"]),
    min_size=1, max_size=120,
).filter(lambda text: any(char.isalnum() for char in text))


@given(headline=copy_text, quote=st.sampled_from([('"', '"'), ("\u201c", "\u201d"), ("\u201e", "\u201c")]))
def test_any_quoted_headline_is_kept_verbatim(headline: str, quote: tuple[str, str]) -> None:
    opening, closing = quote
    instruction = f"Design a poster with the headline {opening}{headline}{closing} for our launch"
    plan = rule_based_plan(instruction, CANON, render_request(instruction))
    assert plan["layout"]["headline"] == headline.strip()


# -- repair: a re-plan after a failed critique -----------------------------------------------------------------------
def finding(kind: str, message: str = "something is wrong; fix it", severity: str = "high") -> dict[str, Any]:
    return {"kind": kind, "message": message, "severity": severity, "box": [10, 10, 50, 50]}


def repaired(instruction: str, kinds: list[str], attempt: int = 1, canon: dict[str, Any] | None = CANON,
             **request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the first plan, the re-plan for violations of `kinds`), both valid against the plan contract."""
    first = plan_for(instruction, canon, **request)
    body = render_request(instruction, **request) | {
        "repair": {"attempt": attempt, "violations": [finding(kind) for kind in kinds]}}
    plan = rule_based_plan(instruction, canon, body)
    assert contract_errors("render_plan.json", plan) == []
    return first, plan


def test_a_palette_violation_re_tones_the_picture_and_keeps_the_layout() -> None:
    first, plan = repaired('Edit the photo: "Summer is here"', ["palette"], task="edit", references=["photo1"])
    assert "imagery_treatment" not in first["layout"]
    assert plan["layout"]["imagery_treatment"] == "palette"
    assert plan["layout"]["template"] == first["layout"]["template"]
    assert plan["layout"]["logo_position"] == first["layout"]["logo_position"]
    assert layout_colors(plan) <= set(palette_in_use(CANON, render_request()))


def test_a_contrast_violation_takes_the_palettes_highest_contrast_pair_everywhere() -> None:
    canon = canon_with(palette_hex=["#635BFF", "#00D4FF", "#0A2540", "#F6F9FC"])
    _first, plan = repaired('Banner: "Build faster"', ["contrast"], canon=canon)
    layout = plan["layout"]
    best = max(contrast_ratio(a, b) for a, b in itertools.combinations(canon["palette_hex"], 2))
    assert contrast_ratio(layout["background_hex"], layout["text_hex"]) == best
    assert layout["accent_hex"] == layout["text_hex"]  # no scheme of the engine puts copy on a weaker third colour


@pytest.mark.parametrize(("corner", "expected"), [
    ("top-left", ["top-right", "bottom-left", "bottom-right", "none"]),
    ("bottom-right", ["bottom-left", "top-right", "top-left", "none"]),
])
def test_a_clear_space_violation_moves_the_logo_to_each_other_corner_then_leaves_it_out(
        corner: str, expected: list[str]) -> None:
    instruction = f'Poster "Open day" with the logo in the {corner.replace("-", " ")} corner'
    assert plan_for(instruction)["layout"]["logo_position"] == corner
    positions = [repaired(instruction, ["logo_safe_zone"], attempt)[1]["layout"]["logo_position"]
                 for attempt in (1, 2, 3, 4)]
    assert positions == expected
    final = repaired(instruction, ["logo_safe_zone"], 4)[1]
    assert "top left" not in final["layout"]["imagery_prompt"]  # the image model is not told to keep a corner calm


def test_a_plan_without_a_logo_keeps_none_on_a_clear_space_violation() -> None:
    _first, plan = repaired("Create a LinkedIn ad, we are hiring, no logo", ["logo_safe_zone"])
    assert plan["layout"]["logo_position"] == "none"


@pytest.mark.parametrize("kind", ["format", "other"])
def test_any_other_violation_chooses_another_template_per_attempt(kind: str) -> None:
    first, plan = repaired('Post "Fresh roast"', [kind], 1)
    _first, again = repaired('Post "Fresh roast"', [kind], 2)
    templates = [first["layout"]["template"], plan["layout"]["template"], again["layout"]["template"]]
    assert len(set(templates)) == 3, templates
    assert plan["layout"]["template"] in plan["goal"]


def test_fixes_accumulate_over_the_violations_of_every_attempt() -> None:
    instruction = 'Edit: "Summer is here", logo top left'
    _first, plan = repaired(instruction, ["palette", "logo_safe_zone", "contrast"], 2, task="edit",
                            references=["photo1"])
    layout = plan["layout"]
    assert layout["imagery_treatment"] == "palette"
    assert layout["logo_position"] == "bottom-left"
    assert layout["accent_hex"] == layout["text_hex"]


@pytest.mark.parametrize("repair", [None, {}, {"attempt": 1, "violations": []}, {"attempt": "x", "violations": "y"}])
def test_a_repair_without_findings_changes_nothing(repair: Any) -> None:
    instruction = 'Post "Fresh roast"'
    body = render_request(instruction) | {"repair": repair}
    assert rule_based_plan(instruction, CANON, body) == plan_for(instruction)


@given(kinds=st.lists(st.sampled_from(["palette", "contrast", "logo_safe_zone", "format", "other", "made-up"]),
                      min_size=1, max_size=4),
       attempt=st.integers(1, 6), dimensions=st.sampled_from(["1080x1080", "1200x628", "1080x1920", "1500x300"]))
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_any_repair_gives_a_valid_plan_in_the_palette(kinds: list[str], attempt: int, dimensions: str) -> None:
    instruction = 'Launch post "Nova 2.0" with the logo'
    first = plan_for(instruction, dimensions=dimensions)
    body = render_request(instruction, dimensions=dimensions) | {
        "repair": {"attempt": attempt, "violations": [finding(kind) for kind in kinds]}}
    plan = rule_based_plan(instruction, CANON, body)
    assert contract_errors("render_plan.json", plan) == []
    assert layout_colors(plan) <= set(palette_in_use(CANON, body))
    assert plan["layout"]["headline"] == first["layout"]["headline"]
    assert plan != first
    assert rule_based_plan(instruction, CANON, body) == plan


def test_labelled_eyebrow_and_legal_lines_are_taken_out_of_the_copy() -> None:
    layout = plan_for('Poster, eyebrow: "New season", headline "Made for the long run", legal line "Terms apply." '
                      "CTA: Shop now", QUIET_CANON)["layout"]
    assert layout["eyebrow"] == "New season"
    assert layout["legal"] == "Terms apply."
    assert layout["headline"] == "Made for the long run"
    assert "subline" not in layout  # neither quotation became the subline
    assert "eyebrow" not in layout["imagery_prompt"]
    assert "legal" not in layout["imagery_prompt"]
