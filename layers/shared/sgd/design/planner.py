"""The offline rule-based planner: turns an instruction, the brand canon and a render request into a render plan
(guardrails/render_plan.json) without a model. Deterministic: the same inputs always give the same plan."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sgd.contracts.shapes import BrandCanon, NormalisedRequest, PlanLayout, RenderPlan
from sgd.design.color import AA_LARGE_TEXT, best_text_pair, chroma, contrast_ratio, normalize_hex
from sgd.design.geometry import Corner
from sgd.design.layout import template_candidates
from sgd.design.personality import Personality

# Used when there is neither a canon nor a requested palette: a light background, near-black text, a slate accent.
# White comes first because the first colour of the best pair becomes the background.
NEUTRAL_PALETTE: tuple[str, ...] = ("#FFFFFF", "#111111", "#4B5563")
FALLBACK_HEADLINE = "Untitled Design"

MAX_HEADLINE_CHARS, MAX_HEADLINE_WORDS = 120, 8
MAX_SUBLINE_CHARS, MAX_SUBLINE_WORDS = 200, 14
MAX_CTA_CHARS, MAX_CTA_WORDS = 40, 6
MAX_EYEBROW_CHARS, MAX_LEGAL_CHARS = 60, 200  # guardrails/render_plan.json's limits
MAX_GOAL_CHARS, MAX_IMAGERY_CHARS = 400, 1000

@dataclass(frozen=True)
class TemplateLayout:
    copy_zone: str  # where the copy sits: the image model keeps it calm
    logo_corner: Corner  # the corner farthest from the headline and the CTA


TEMPLATE_LAYOUTS: dict[str, TemplateLayout] = {
    "hero": TemplateLayout("the centre and the lower third", "top-left"),
    "split": TemplateLayout("the left half", "bottom-right"),
    "band": TemplateLayout("the middle of the band", "top-left"),
    "stack": TemplateLayout("the top third and the bottom strip", "bottom-right"),
    "frame": TemplateLayout("the border around the image", "bottom-left"),
    "editorial": TemplateLayout("the plain side beside or below the inset picture", "top-left"),
    "diagonal": TemplateLayout("the plain side of the slanted field", "top-left"),
    "spotlight": TemplateLayout("the area beside the circle", "top-left"),
    "strip": TemplateLayout("the middle of the banner", "top-left"),
    "signoff": TemplateLayout("the left of the banner", "top-right"),
    "tower": TemplateLayout("the lower half of the column", "top-left"),
}

# Repair: other templates for a design whose critique failed for a reason the plan's colours, imagery treatment or
# logo corner cannot fix, nearest in shape first.
TEMPLATE_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "hero": ("stack", "split", "frame"),
    "split": ("band", "hero", "stack"),
    "band": ("split", "hero"),
    "stack": ("frame", "hero", "split"),
    "frame": ("stack", "hero", "split"),
    "editorial": ("split", "stack", "hero"),
    "diagonal": ("split", "hero", "stack"),
    "spotlight": ("hero", "split", "stack"),
    "strip": ("signoff",),  # the other one-row banner; nothing else fits one this short
    "signoff": ("strip",),
    "tower": ("stack",),
}
# Violation kinds a repair fixes without changing the layout template.
REPAIRED_IN_PLACE = frozenset({"palette", "contrast", "logo_safe_zone"})

# Intent words -> the CTA inferred when the instruction spells none out; first match wins, so specific intents go
# before general ones ("launch event" registers, "new app" gets the app).
CTA_INTENTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b(?:{words})\b", re.IGNORECASE), cta)
    for words, cta in (
        (r"sales?|discounts?|offers?|deals?|\d+\s?% off|promo(?: code)?|coupons?|clearance|black friday"
         r"|cyber monday|bogo|shop|store opening", "Shop now"),
        (r"pre-?orders?", "Pre-order now"),
        (r"concerts?|gigs?|festivals?|tickets?|tour dates", "Get tickets"),
        (r"webinars?|conferences?|events?|summits?|workshops?|meetups?|masterclass(?:es)?|livestreams?"
         r"|register|registration|hackathons?|expos?", "Register"),
        (r"apps?|download|ios|android|app store|play store", "Get the app"),
        (r"demo", "Book a demo"),
        (r"bookings?|reservations?|reserve|appointments?", "Book now"),
        (r"hiring|careers?|jobs?|vacanc(?:y|ies)|join (?:our|the) team", "Apply now"),
        (r"donate|donations?|fundrais(?:er|ing)|charity", "Donate"),
        (r"newsletter|subscribe|subscription|podcast", "Subscribe"),
        (r"free trial|sign[ -]?up", "Sign up"),
        (r"launch(?:es|ing)?|new|introducing|announcing|release", "Learn more"),
    )
)

OPS_ORDER = ("local_edit", "inpaint", "style_transfer", "multi_image_fusion", "text_overlay")  # pipeline order


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Typographic quotes and dashes are written as escapes so they cannot be mistaken for ASCII.
_QUOTE_CHARS = "\"'\u201c\u201d\u201e\u00ab\u00bb\u2018\u2019"
_TRIM_CHARS = " ,;:-\u2013\u2014"

_WORD = re.compile(r"\w")
_DIMENSIONS = re.compile(r"\s*(\d{1,5})\s*[x\u00d7]\s*(\d{1,5})\s*")
# Sizes and ratios in an instruction (1200x628, 1080 x 1080 px, 24" x 36", 16:9, 300px): not part of any copy.
_UNIT = r'(?:\s*(?:px|pixels|in|inch(?:es)?|cm|mm)\b|"|\u201d)?'
_SIZES_IN_TEXT = re.compile(
    rf"\b\d{{1,5}}(?:\.\d+)?{_UNIT}\s*[x\u00d7]\s*\d{{1,5}}(?:\.\d+)?{_UNIT}|\b\d{{1,2}}:\d{{1,2}}\b|\b\d{{2,5}}\s?px\b",
    re.IGNORECASE,
)

# Quotations, found in one pass so they never overlap. A straight double quote after a digit is an inch mark
# (24" x 36"); a right single quote or ' followed by a letter is an apostrophe (don't), and a straight single
# quote opens only before a word and after a non-word (kids' is not an opener).
_QUOTED = re.compile(
    r'(?<!\d)"(?P<straight>[^"]+)"'
    r'|[\u201c\u201e\u00ab](?P<curly>[^\u201c\u201d\u201e\u00ab\u00bb"]+)[\u201d\u201c\u00bb"]'
    r"|\u2018(?P<single>.+?)\u2019(?!\w)"
    r"|(?<![\w'])'(?=[^\s'])(?P<plain>(?:[^'\n]|'(?=\w))+?)(?<=\S)'(?!\w)",
    re.DOTALL,
)
# A label before a quotation ("with the headline", "saying:") goes with it when the copy is taken out.
_LABEL_BEFORE_QUOTE = re.compile(
    r"(?:\b(?:and\s+)?(?:with\s+)?(?:(?:the|a|an)\s+)?(?:head(?:line|ing)|title|tag\s?line|sub\s?(?:line|headline"
    r"|title)|text|copy|caption|words?|message|slogan)?|\b(?:saying|says|reading|reads))\s*[:\-\u2013\u2014]?\s*$",
    re.IGNORECASE,
)

# An eyebrow (a short line above the headline) or a legal line, labelled before its quotation.
_PART_LABEL = re.compile(
    r"\b(?P<eyebrow>eyebrow|kicker|overline|pre-?headline)|\b(?P<legal>legal(?:\s+line)?|small\s+print|"
    r"disclaimer|fine\s+print|terms)\s*[:\-\u2013\u2014]?\s*$", re.IGNORECASE)

_CTA_LABEL = re.compile(
    r"\b(?:cta|call[\s-]+to[\s-]+action)\b(?:\s+(?:text|label|button|copy)\b)?\s*"
    r"(?P<separator>[:=\-\u2013\u2014]|\s(?:of|is|saying|reading|that says|should say|should read)\b)?\s*"
    r"|\bbutton\s+(?P<verb>saying|that says|reading|labell?ed|with (?:the )?(?:text|label|copy)|text)\b"
    r"\s*[:\-\u2013\u2014]?\s*",
    re.IGNORECASE,
)
_CTA_AFTER_QUOTE = re.compile(r"\s*(?:cta|button|call[\s-]+to[\s-]+action)\b", re.IGNORECASE)
_CTA_UNQUOTED_PHRASE = re.compile(rf"[^\s{_QUOTE_CHARS}][^.;!?\n,(){_QUOTE_CHARS}]{{0,80}}")
_CTA_WITH_BUTTON = re.compile(r"\bwith an?\s+((?:[\w'%-]+\s+){1,5}?)(?:button|cta)\b", re.IGNORECASE)
_BUTTON_ADJECTIVES = _words(
    "big small large prominent bold bright clear simple single primary secondary main round rounded pill colored"
    " coloured contrasting red orange yellow green blue purple pink black white grey gray dark light"
)

_STYLE_REQUEST = re.compile(
    r"\bin the (?:same )?style(?: of)?\b|\bstyled? (?:like|after|of|from)\b|\bsame style as\b"
    r"|\bmatch(?:ing)? the style\b",
    re.IGNORECASE,
)
_INPAINT_REQUEST = re.compile(r"\b(?:remove|erase|replace|fill|delete|get rid of)\b", re.IGNORECASE)
_CORNER = r"(top|upper|bottom|lower)[\s-]*(left|right)"
_LOGO_CORNER = re.compile(
    rf"\blogos?\b\W+(?:[\w'-]+\W+){{0,4}}?{_CORNER}\b(?:[\s-]+corner\b)?"
    rf"|\b{_CORNER}(?:[\s-]+corner)?\W+(?:[\w'-]+\W+){{0,2}}?logos?\b",
    re.IGNORECASE,
)
_NO_LOGO = re.compile(
    r"\b(?:no|without|remove|erase|delete|hide|drop|omit)\s+(?:[\w'-]+\s+){0,2}?logos?\b|\blogo[\s-]?free\b",
    re.IGNORECASE,
)
_LOGO = re.compile(r"\blogos?\b", re.IGNORECASE)

# Headline derivation: clauses end at sentence punctuation or a comma, and the subject ends before styling talk.
_CLAUSE_END = re.compile(r"[.!?;:,](?=\s|$)|[\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f]|\n|\s[-\u2013\u2014]\s")
_SUBJECT_CUT = re.compile(
    r"\s(?:with|without|using|featuring|showing|that|which|where|against|in the style|in a|in an|on a|on an|set in)\s",
    re.IGNORECASE,
)
# "Design a bold poster for <subject>": words that lead from the request to its subject (see _subject).
_PIVOTS = tuple(
    phrase.split()
    for phrase in (
        "for", "about", "announcing", "promoting", "advertising", "celebrating", "showcasing", "featuring",
        "introducing", "titled", "called", "saying", "on", "of", "to promote", "to announce", "to advertise",
        "to celebrate", "to showcase", "to introduce", "that says",
    )
)
_REQUEST_WORDS = _words(
    "please kindly hey hi can could would will you i i'd i'm we we'd we're let's lets need want like love help me us"
    " create design make generate build produce draft render craft prepare compose write mock whip put together up"
    " give get do come with a an the some one two three four five six 1 2 3 4 5 6 few couple"
)
# Formats, platforms, copy labels and looks: scaffolding anywhere, and never the last word of a subject.
_FORMAT_WORDS = _words(
    "headline heading title tagline subline subtitle text copy caption"
    " banner banners poster posters post posts flyer flyers ad ads advert adverts advertisement advertisements image"
    " images graphic graphics visual visuals creative creatives thumbnail thumbnails cover header hero story stories"
    " reel reels card cards leaflet leaflets brochure billboard mockup mockups design designs version versions"
    " variation variations variant variants layout layouts template slide slides tile tweet carousel pin email"
    " invitation invite sticker social media web website display instagram ig facebook fb linkedin twitter x tiktok"
    " youtube pinterest snapchat threads google blog marketing promotional px pixels"
    " bold modern minimal minimalist clean simple elegant colorful colourful vibrant eye-catching catchy fun playful"
    " professional sleek stylish striking beautiful nice cool square vertical horizontal portrait landscape wide"
    " tall large small big dark light bright static quick short attractive engaging high-quality hd"
)
_SCAFFOLDING = _REQUEST_WORDS | _FORMAT_WORDS  # request words only count in the opening clause ("Get ready" stays)
_DETERMINERS = _words("a an the our my your their his her its this these that those some")
_TITLE_SMALL_WORDS = _words("a an the and or nor but for of in on at to by with vs via as per from")

_SUBLINE_LEAD = re.compile(r"\b(?:about|announcing|featuring)\s+", re.IGNORECASE)
_SUBLINE_END = re.compile(
    r"[.!?;:\n]|,\s|\s(?:with|using|in the style|and use|and make|about|announcing|featuring)\s", re.IGNORECASE
)


@dataclass(frozen=True)
class _Quote:
    start: int
    end: int
    text: str


def rule_based_plan(instruction: str, canon: BrandCanon | None, request: NormalisedRequest) -> RenderPlan:
    """The render plan for `request` under `canon` (None: no canon yet), valid against guardrails/render_plan.json.

    A re-plan after a failed critique carries request["repair"] = {"attempt": n, "violations": [findings]} (the
    findings of every attempt so far, so fixes accumulate) and the plan changes to fix them: palette -> the picture
    re-toned in palette colours (imagery_treatment "palette"; the plan's colours are palette colours always);
    contrast -> the palette's highest-contrast text/background pair; logo_safe_zone -> another logo corner (after
    all three, none); any other kind -> another template."""
    prompts = request.get("prompts") or {}
    outputs = request.get("outputs") or {}
    constraints = request.get("constraints") or {}
    task = prompts.get("task", "create")
    if task not in ("create", "edit", "variations"):
        raise ValueError(f"unknown task {task!r}; expected create, edit or variations")
    width, height = _parse_dimensions(outputs.get("dimensions") or "1080x1080")
    count = int(outputs.get("count") or 1)

    quotes = _find_quotes(instruction)
    cta, cta_quote, cta_span = _explicit_cta(instruction, quotes)
    parts = _labelled_parts(instruction, quotes)
    copy = [quote.text for quote in quotes if quote is not cta_quote and _is_copy(quote.text)
            and quote.text not in parts.values()]
    directive = _directive_text(instruction, quotes, cta_span)

    repair = _read_repair(request.get("repair"))
    template = template_for(width, height, canon)
    if repair and repair.kinds - REPAIRED_IN_PLACE:
        template = alternative_template(template, repair.attempt)
    headline = _clip(copy[0], MAX_HEADLINE_CHARS) if copy else derive_headline(directive)
    subline = _clip(copy[1], MAX_SUBLINE_CHARS) if len(copy) > 1 else _subline(directive, headline)
    if cta is None and task != "edit":  # an edit changes only what was asked for: no CTA is invented for it
        cta = infer_cta(directive)
    palette = palette_in_use(canon, request)
    logo_position = _logo_position(directive, canon, template)
    if repair and "logo_safe_zone" in repair.kinds and logo_position != "none":
        logo_position = alternative_logo_corner(logo_position, repair.attempt)

    layout: dict[str, Any] = {"template": template, "headline": headline}
    if parts.get("eyebrow"):
        layout["eyebrow"] = _clip(parts["eyebrow"], MAX_EYEBROW_CHARS)
    if subline:
        layout["subline"] = subline
    if cta:
        layout["cta"] = cta
    if parts.get("legal"):
        layout["legal"] = _clip(parts["legal"], MAX_LEGAL_CHARS)
    layout |= choose_colors(palette)
    if repair and "contrast" in repair.kinds:
        layout |= highest_contrast_colors(palette)
    layout["logo_position"] = logo_position
    layout["imagery_prompt"] = _imagery_prompt(directive, template, logo_position, palette)
    if repair and "palette" in repair.kinds:
        layout["imagery_treatment"] = "palette"

    ops = _ops(task, directive, len(prompts.get("references") or ()))
    return {
        "goal": _goal(task, count, width, height, template, headline, cta, ops),
        "ops": ops,
        "safety": {
            "respect_logo_safe_zone": logo_position != "none" or _has_safe_zone(canon, constraints),
            "palette_only": not constraints.get("override", False),
        },
        "layout": cast(PlanLayout, layout),
    }


@dataclass(frozen=True)
class _Repair:
    attempt: int  # 1 for the first re-plan
    kinds: frozenset[str]  # the kinds of the violations to fix


def _read_repair(value: Any) -> _Repair | None:
    """request["repair"] = {"attempt": n, "violations": [findings]} as the render pipeline sends it, else None."""
    if not isinstance(value, dict):
        return None
    kinds = frozenset(str(finding.get("kind") or "other") for finding in value.get("violations") or ()
                      if isinstance(finding, dict))
    if not kinds:
        return None
    try:
        attempt = max(1, int(value.get("attempt") or 1))
    except (TypeError, ValueError):
        attempt = 1
    return _Repair(attempt, kinds)


def alternative_template(template: str, attempt: int) -> str:
    """Another layout for a design the critic found fault with (repair attempt 1, 2, ...): the templates nearest in
    shape first (TEMPLATE_ALTERNATIVES), cycling when the attempts outnumber them."""
    alternatives = TEMPLATE_ALTERNATIVES[template]
    return alternatives[(attempt - 1) % len(alternatives)]


def alternative_logo_corner(corner: str, attempt: int) -> str:
    """Another corner for a logo whose clear space was violated (repair attempt 1, 2, ...): the same edge's other
    corner, then the other edge's corner below or above it, then the opposite one; "none" once every corner was
    tried (the engine then leaves the logo out and its notes say so)."""
    vertical, horizontal = corner.split("-")
    other_vertical = "bottom" if vertical == "top" else "top"
    other_horizontal = "right" if horizontal == "left" else "left"
    order = (f"{vertical}-{other_horizontal}", f"{other_vertical}-{horizontal}", f"{other_vertical}-{other_horizontal}")
    return order[attempt - 1] if attempt <= len(order) else "none"


def highest_contrast_colors(palette: list[str]) -> dict[str, str]:
    """background_hex and text_hex: the palette's highest-contrast pair; accent_hex the text colour too, so no
    colour scheme of the engine puts copy on a third, weaker colour. Palette colours only."""
    if len(palette) < 2:
        return choose_colors(palette)
    background, text, _ratio = best_text_pair(palette)
    return {"background_hex": background, "text_hex": text, "accent_hex": text}


def template_for(width: int, height: int, canon: BrandCanon | None = None) -> str:
    """The layout template for an output size and a brand: the template that fits the size and is nearest to the
    brand's design personality (sgd.design.layout.template_candidates); without one (no canon, or a voice that says
    nothing of it), the size's first template."""
    personality = Personality.of(canon.get("personality"), canon.get("voice")) if canon is not None else None
    character = personality.character if personality is not None and personality.expressed else None
    return template_candidates(width, height, character)[0]


def palette_in_use(canon: BrandCanon | None, request: Mapping[str, Any]) -> list[str]:
    """The colours a plan may use, '#RRGGBB' upper case, dominant first: the canon palette minus its forbidden
    colours, narrowed to the requested palette (replaced by it under override); without a canon the requested
    palette, else NEUTRAL_PALETTE. A request that leaves fewer than two colours is topped up from the wider palette
    so text stays readable; a request outside the canon without override is ignored. Forbidden colours never appear.
    """
    constraints = request.get("constraints") or {}
    requested = _hex_list(constraints.get("palette_hex"))
    if canon is None:
        return _top_up(requested, list(NEUTRAL_PALETTE))
    forbidden = set(_hex_list(canon.get("forbidden_hex")))
    usable = [color for color in _hex_list(canon.get("palette_hex")) if color not in forbidden]
    if constraints.get("override"):  # the audited escape hatch: requested colours may leave the canon palette
        requested = [color for color in requested if color not in forbidden]
    else:
        requested = [color for color in requested if color in usable]
    return _top_up(requested, usable)


def choose_colors(palette: list[str]) -> dict[str, str]:
    """background_hex and text_hex: the best-contrast pair of the palette; accent_hex: the most colourful other
    colour, preferring those a button shows up on the background with (3:1, WCAG 1.4.11); palette colours only."""
    if not palette:
        return {}
    if len(palette) == 1:
        return {"background_hex": palette[0]}
    background, text, _ratio = best_text_pair(palette)
    others = [color for color in palette if color not in (background, text)]
    visible = [color for color in others if contrast_ratio(color, background) >= AA_LARGE_TEXT]
    # max() keeps the first of equals, so ties follow palette order.
    accent = max(visible or others, key=chroma) if others else text
    return {"background_hex": background, "text_hex": text, "accent_hex": accent}


def infer_cta(text: str) -> str | None:
    """The CTA the intent words of `text` suggest (CTA_INTENTS), or None."""
    return next((cta for pattern, cta in CTA_INTENTS if pattern.search(text)), None)


def derive_headline(text: str) -> str:
    """A short title-cased headline from an instruction without quoted copy: its subject, without the request
    scaffolding ("please create a bold banner for ..."), sizes or styling talk. Never empty."""
    text = _SIZES_IN_TEXT.sub(" ", text)
    for index, clause in enumerate(_CLAUSE_END.split(text)):
        subject = _subject(clause, _SCAFFOLDING if index == 0 else _FORMAT_WORDS)
        if subject:
            return _clip(_title_case(subject), MAX_HEADLINE_CHARS)
    words = text.split()[:MAX_HEADLINE_WORDS]
    if any(_is_copy(word) for word in words):  # nothing but scaffolding: better the request's words than nothing
        return _clip(_title_case(words), MAX_HEADLINE_CHARS)
    return FALLBACK_HEADLINE


def _subject(clause: str, scaffolding: frozenset[str]) -> list[str]:
    """The subject words of a clause: what follows a pivot ("... poster for <subject>") when the pivot comes after
    nothing but scaffolding or right after a format noun and leads somewhere, else the clause minus scaffolding."""
    words = clause.split()
    bare = [_bare(word) for word in words]
    for index in range(len(words)):
        pivot = next((pivot for pivot in _PIVOTS if bare[index : index + len(pivot)] == pivot), None)
        if pivot and ((index > 0 and bare[index - 1] in _FORMAT_WORDS)
                      or all(word in scaffolding or not word for word in bare[:index])):
            subject = _trim_subject(words[index + len(pivot) :], scaffolding)
            if subject:
                return subject
            break
    return _trim_subject(words, scaffolding)


def _trim_subject(words: list[str], scaffolding: frozenset[str]) -> list[str]:
    subject = _SUBJECT_CUT.split(f" {' '.join(words)} ", maxsplit=1)[0].split()
    while subject and (not _is_copy(subject[0]) or _bare(subject[0]) in _DETERMINERS | scaffolding):
        subject = subject[1:]
    subject = subject[:MAX_HEADLINE_WORDS]
    trailing = _FORMAT_WORDS | _TITLE_SMALL_WORDS | _DETERMINERS
    while subject and (not _is_copy(subject[-1]) or _bare(subject[-1]) in trailing):
        subject = subject[:-1]
    # Opening quotes and brackets go; a trailing apostrophe stays (kids').
    return [word.lstrip(_QUOTE_CHARS + "([{").rstrip("\"\u201d\u00bb)]}") or word for word in subject]


def _bare(word: str) -> str:
    return word.strip(".,;:!?()[]{}" + _QUOTE_CHARS).lower()


def _title_case(words: list[str]) -> str:
    def title(word: str, edge: bool) -> str:
        # Words with capitals or digits (AI, iPhone, 50%, v2) are names or figures: they stay as written.
        if any(char.isupper() or char.isdigit() for char in word):
            return word
        if not edge and word in _TITLE_SMALL_WORDS:
            return word
        first, *rest = word.split("-")  # back-to-school -> Back-to-School
        rest = [part if part in _TITLE_SMALL_WORDS else part[:1].upper() + part[1:] for part in rest]
        return "-".join([first[:1].upper() + first[1:], *rest])

    last = len(words) - 1
    return " ".join(title(word, index in (0, last)) for index, word in enumerate(words))


def _subline(directive: str, headline: str) -> str | None:
    """The first phrase after about/announcing/featuring that does not repeat the headline."""
    for lead in _SUBLINE_LEAD.finditer(directive):
        words = _SUBLINE_END.split(directive[lead.end() :], maxsplit=1)[0].split()[:MAX_SUBLINE_WORDS]
        subline = _clip(" ".join(words).rstrip(_TRIM_CHARS), MAX_SUBLINE_CHARS)
        core = " ".join(word for word in map(_bare, words) if word not in _DETERMINERS)
        # "A poster about climate week" made "Climate Week" the headline already: it is not repeated under it.
        if _is_copy(subline) and core not in headline.lower() and headline.lower() not in core:
            return subline[0].upper() + subline[1:]
    return None


def _find_quotes(instruction: str) -> list[_Quote]:
    quotes = []
    for match in _QUOTED.finditer(instruction):
        kind = next(name for name in ("straight", "curly", "single", "plain") if match[name] is not None)
        if kind == "plain" and len(_WORD.findall(match[kind])) < 2:
            continue  # rock 'n' roll: an elision, not a quotation
        quotes.append(_Quote(match.start(), match.end(), match[kind].strip()))
    return quotes


def _labelled_parts(instruction: str, quotes: list[_Quote]) -> dict[str, str]:
    """{"eyebrow": ..., "legal": ...}: quotations the instruction labels as such ('eyebrow: "New season"',
    'legal line "Terms apply"')."""
    parts: dict[str, str] = {}
    cursor = 0
    for quote in quotes:
        label = _PART_LABEL.search(instruction[cursor:quote.start])
        if label is not None and _is_copy(quote.text):
            parts.setdefault("eyebrow" if label["eyebrow"] else "legal", quote.text)
        cursor = quote.end
    return parts


def _is_copy(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _explicit_cta(instruction: str, quotes: list[_Quote]) -> tuple[str | None, _Quote | None, tuple[int, int] | None]:
    """(cta, the quotation it came from, its span in the instruction) when the instruction spells a CTA out."""
    for label in _CTA_LABEL.finditer(instruction):
        if _inside(label.start(), quotes):
            continue
        quote = next((quote for quote in quotes if quote.start == label.end()), None)
        if quote and _is_copy(quote.text):
            return _clip(quote.text, MAX_CTA_CHARS), quote, (label.start(), quote.end)
        if not (label["separator"] or label["verb"]):
            continue  # "with a clear call to action and bright colours" names no CTA text
        phrase = _CTA_UNQUOTED_PHRASE.match(instruction, label.end())
        cta = _cta_from_words(phrase[0].split()) if phrase else None
        if cta and phrase:
            return cta, None, (label.start(), phrase.end())
    for quote in quotes:
        suffix = _CTA_AFTER_QUOTE.match(instruction, quote.end)
        if suffix and _is_copy(quote.text):
            return _clip(quote.text, MAX_CTA_CHARS), quote, (quote.start, suffix.end())
    for match in _CTA_WITH_BUTTON.finditer(instruction):
        words = match[1].split()
        while words and words[0].lower() in _BUTTON_ADJECTIVES:
            words = words[1:]
        cta = _cta_from_words(words)
        if cta and not _inside(match.start(), quotes):
            return cta, None, match.span()
    return None, None, None


def _cta_from_words(words: list[str]) -> str | None:
    text = " ".join(words[:MAX_CTA_WORDS]).strip(_TRIM_CHARS + _QUOTE_CHARS)
    if not _is_copy(text):
        return None
    text = _clip(text, MAX_CTA_CHARS)
    return text[0].upper() + text[1:]


def _inside(position: int, quotes: list[_Quote]) -> bool:
    return any(quote.start <= position < quote.end for quote in quotes)


def _directive_text(instruction: str, quotes: list[_Quote], cta_span: tuple[int, int] | None) -> str:
    """The instruction without its copy: the quotations (with labels such as 'headline:') and the spelled-out CTA.
    Intent, logo and ops rules read this, so a headline like "Remove the clutter" is not taken as an order."""
    spans = sorted([(quote.start, quote.end) for quote in quotes] + ([cta_span] if cta_span else []))
    pieces, cursor = [], 0
    for start, end in spans:
        if start >= cursor:
            pieces.append(_LABEL_BEFORE_QUOTE.sub("", _PART_LABEL.sub("", instruction[cursor:start])))
        cursor = max(cursor, end)  # a CTA span contains its quotation
    pieces.append(instruction[cursor:])
    text = re.sub(r"[ \t]+", " ", " ".join(pieces))
    return re.sub(r" +([,.;:!?])", r"\1", text).strip()


def _logo_position(directive: str, canon: BrandCanon | None, template: str) -> str:
    if _NO_LOGO.search(directive):
        return "none"
    corner = _LOGO_CORNER.search(directive)
    if corner:
        vertical = (corner[1] or corner[3]).lower()
        horizontal = (corner[2] or corner[4]).lower()
        return f"{'top' if vertical in ('top', 'upper') else 'bottom'}-{horizontal}"
    if (canon or {}).get("logo_asset_id") or _LOGO.search(directive):
        return TEMPLATE_LAYOUTS[template].logo_corner
    return "none"


def _has_safe_zone(canon: BrandCanon | None, constraints: dict[str, Any]) -> bool:
    zone = constraints.get("logo_safe_zone_pct")
    if zone is None:
        zone = (canon or {}).get("logo_safe_zone_pct")
    return bool(zone)


def _ops(task: str, directive: str, reference_count: int) -> list[str]:
    ops = {"text_overlay"}
    if task == "edit":
        ops.add("inpaint" if _INPAINT_REQUEST.search(directive) else "local_edit")
    if task == "variations" or (reference_count and _STYLE_REQUEST.search(directive)):
        ops.add("style_transfer")
    if task != "variations" and reference_count >= 2:
        ops.add("multi_image_fusion")
    return [op for op in OPS_ORDER if op in ops]


def _goal(task: str, count: int, width: int, height: int, template: str, headline: str, cta: str | None,
          ops: list[str]) -> str:
    plural = "s" if count > 1 else ""
    designs = f"{width}x{height} {template}-layout design{plural}"
    copy = f"the headline \u201c{headline}\u201d" + (f" and a \u201c{cta}\u201d call to action" if cta else "")
    if task == "edit":
        how = "inpainting" if "inpaint" in ops else "a local edit"
        goal = f"Edit the reference image with {how} into {'a' if count == 1 else count} {designs} with {copy}."
    elif task == "variations":
        goal = f"Produce {count} style variation{plural} of the reference as {designs} with {copy}."
    else:
        goal = f"Create {'a' if count == 1 else count} {designs} with {copy}."
    return _clip(goal, MAX_GOAL_CHARS)


def _imagery_prompt(directive: str, template: str, logo_position: str, palette: list[str]) -> str:
    zone = TEMPLATE_LAYOUTS[template].copy_zone
    if logo_position != "none":
        zone += f", plus the {logo_position.replace('-', ' ')} corner,"
    guidance = (f"Keep {zone} calm and uncluttered for the text and logo added later. "
                "No text, letters, logos or watermarks in the image.")
    if palette:
        guidance += f" Use only colours from this palette: {', '.join(palette)}."
    scene = _LOGO_CORNER.sub(" ", _SIZES_IN_TEXT.sub(" ", directive))  # placement is guidance's job
    scene = _clip(re.sub(r"\s+", " ", scene).rstrip(_TRIM_CHARS), MAX_IMAGERY_CHARS - len(guidance) - 2)
    if not _is_copy(scene):
        return guidance
    return f"{scene} {guidance}" if scene.endswith((".", "!", "?", "\u2026")) else f"{scene}. {guidance}"


def _parse_dimensions(value: str) -> tuple[int, int]:
    match = _DIMENSIONS.fullmatch(value)
    if not match or not (int(match[1]) and int(match[2])):
        raise ValueError(f"dimensions must be WIDTHxHEIGHT, got {value!r}")
    return int(match[1]), int(match[2])


def _hex_list(colors: Any) -> list[str]:
    return list(dict.fromkeys(normalize_hex(color) for color in colors or ()))


def _top_up(primary: list[str], wider: list[str]) -> list[str]:
    return primary if len(primary) >= 2 else primary + [color for color in wider if color not in primary]


def _clip(text: str, limit: int) -> str:
    """`text` stripped and cut to at most `limit` characters at a word boundary, with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    boundary = cut.rfind(" ")
    if boundary > limit // 2:
        cut = cut[:boundary]
    return cut.rstrip(_TRIM_CHARS) + "\u2026"
