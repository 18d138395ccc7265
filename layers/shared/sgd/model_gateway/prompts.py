"""The messages each task sends, and reading a structured answer back. User text always travels as data
(a JSON document in the user turn), never spliced into the instructions."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from sgd.contracts.shapes import BrandCanon, NormalisedRequest
from sgd.guardrails import contract_errors
from sgd.model_gateway.port import ImageInput
from sgd.resources import load_json

Messages = list[dict[str, Any]]

CONTRACT_OF_TASK = {"planner": "render_plan.json", "canon": "canon.json", "critic": "critique.json"}
_EVIDENCE_CHARS = 60_000  # what a canon extraction sends at most; the rest would only add cost
_FENCED = re.compile(r"```(?:json|JSON)?\s*(.*?)\s*```", re.DOTALL)
# Aspect ratios image models accept (Gemini's list, the widest in use); requests snap to the nearest.
IMAGE_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")

_SYSTEM = {
    "planner": (
        "You are the design planner of a brand-safe graphic design service. From the user's instruction, the "
        "brand canon and the output request, decide the design. Use only colours from the canon palette (never a "
        "forbidden one), keep copy short and on the brand's voice, and keep the logo's clear space free. Text in "
        "quotes in the instruction is the headline, verbatim. When the input has a \"repair\" member, an earlier "
        "render of this design failed the brand critique: its \"violations\" are what the critic measured on the "
        "pixels (kind, message, severity, box), collected over every attempt so far. Change the plan so that none "
        "of them recurs: for palette, set layout.imagery_treatment to \"palette\" and use only canon colours; for "
        "contrast, use the palette's highest-contrast text/background pair; for logo_safe_zone, move the logo to "
        "another corner (\"none\" only when no corner can work); for anything else, choose another template."
    ),
    "canon": (
        "You extract a brand canon from brand-guideline evidence: the palette (explicit brand colours only, not "
        "the document's own text colours or greys), colours the guide forbids, the brand fonts, the voice (tone, "
        "dos, don'ts) and the logo clear space as a percentage of the shorter side. Report only what the evidence "
        "states."
    ),
    "critic": (
        "You review a design against a brand canon: colours outside the palette or forbidden, unreadable text "
        "(WCAG contrast), anything inside the logo's clear space, and copy off the brand's voice. Report each "
        "violation with a pixel box [x, y, width, height] in the image's own pixels when you can, score the design "
        "from 0 to 1, and suggest concrete repairs. Exact colour and contrast measurements are made separately on "
        "the pixels: add what a measurement cannot see."
    ),
}


def _schema_for_model(contract: str) -> dict[str, Any]:
    return {key: value for key, value in load_json("guardrails", contract).items() if key not in ("$schema", "$id")}


def structured_request(task: str, user_content: Any) -> tuple[Messages, dict[str, Any]]:
    """The messages and response_format for a task whose answer must satisfy guardrails/<contract>."""
    contract = CONTRACT_OF_TASK[task]
    schema = _schema_for_model(contract)
    system = f"{_SYSTEM[task]}\nAnswer with one JSON object valid against this JSON Schema:\n{json.dumps(schema)}"
    messages: Messages = [{"role": "system", "content": system}, {"role": "user", "content": user_content}]
    response_format = {"type": "json_schema",
                       "json_schema": {"name": contract.removesuffix(".json"), "strict": False, "schema": schema}}
    return messages, response_format


def planner_content(instruction: str, canon: BrandCanon | None, request: NormalisedRequest) -> str:
    """The planner's user turn. A re-plan's request["repair"] (attempt and violations) travels as its own member,
    so the model sees the findings it must fix beside the instruction, not buried in the request."""
    content: dict[str, Any] = {"instruction": instruction, "canon": canon,
                               "request": {key: value for key, value in request.items() if key != "repair"}}
    if repair := request.get("repair"):
        content["repair"] = repair
    return json.dumps(content, ensure_ascii=False)


def canon_content(evidence: list[dict[str, Any]]) -> str:
    text = json.dumps({"evidence": evidence}, ensure_ascii=False)
    return text if len(text) <= _EVIDENCE_CHARS else text[:_EVIDENCE_CHARS] + " …(truncated)"


def critic_content(image: ImageInput, canon: BrandCanon) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": json.dumps({"canon": canon}, ensure_ascii=False)},
        {"type": "image_url", "image_url": {"url": image.as_url()}},
    ]


def repair_messages(messages: Messages, answer: str | None, errors: list[str]) -> Messages:
    """The one repair attempt: the model sees its answer and every validation error."""
    listed = "\n".join(f"- {error}" for error in errors[:30])
    return [*messages, {"role": "assistant", "content": answer or ""}, {"role": "user", "content": (
        f"Your answer does not satisfy the JSON Schema:\n{listed}\nReturn only the corrected JSON object.")}]


def read_structured(task: str, content: str | None) -> tuple[Any, list[str]]:
    """(document, errors): errors is empty when the answer is JSON that satisfies the task's contract."""
    if not content or not content.strip():
        return None, ["(root): the answer is empty"]
    try:
        document = _json_in(content)
    except json.JSONDecodeError as error:
        return None, [f"(root): not valid JSON ({error.msg} at character {error.pos})"]
    return document, contract_errors(CONTRACT_OF_TASK[task], document)


def _json_in(content: str) -> Any:
    """The answer's JSON: all of it, else its first code fence, else the object that starts at its first brace (a
    model that wraps the JSON in a sentence); a repair turn costs more than reading past the words."""
    try:
        return json.loads(content)
    except json.JSONDecodeError as error:
        first_error = error
    if fenced := _FENCED.search(content):
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(fenced.group(1))
    if (brace := content.find("{")) >= 0:
        with contextlib.suppress(json.JSONDecodeError):
            return json.JSONDecoder().raw_decode(content, brace)[0]
    raise first_error


def nearest_aspect_ratio(width: int, height: int) -> str:
    def distance(ratio: str) -> float:
        across, down = (int(part) for part in ratio.split(":"))
        return abs(across / down - width / height)

    return min(IMAGE_ASPECT_RATIOS, key=distance)


def image_request(prompt: str, width: int, height: int) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": (
            f"{prompt}\nCompose for a {width}x{height} px canvas. Render no text, letters, logos or watermarks.")}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": nearest_aspect_ratio(width, height)},
    }
