"""The content policy (policies/content_policy.json): whole-word, case-insensitive term matching.

A term matches only as a whole word, or for a multi-word term as a whole phrase: "meth" never matches
"method", "kill" never matches "skills". Word boundaries are Unicode-aware (a term next to any letter or digit
of any script is inside a word). Whitespace inside a phrase may be any run of spaces or line breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Action = Literal["block", "review"]
_ACTIONS = ("block", "review")


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    rule_id: str
    term: str
    action: Action
    description: str

    def as_details(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "term": self.term, "action": self.action, "description": self.description}


@dataclass(frozen=True, slots=True)
class _Rule:
    rule_id: str
    description: str
    action: Action
    terms: tuple[tuple[str, re.Pattern[str]], ...]


def term_pattern(term: str) -> re.Pattern[str]:
    """A whole-word (or whole-phrase) pattern: no word character may touch either end."""
    words = term.split()
    if not words:
        raise ValueError("a term must contain a word")
    phrase = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){phrase}(?!\w)", re.IGNORECASE | re.UNICODE)


class ContentPolicy:
    def __init__(self, rules: list[_Rule]) -> None:
        self._rules = rules

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ContentPolicy:
        """Validates the policy's shape; ValueError names the offending rule and field."""
        rules = []
        for index, rule in enumerate(document.get("rules") or []):
            where = f"rules[{index}]"
            rule_id = rule.get("id")
            if not isinstance(rule_id, str) or not rule_id:
                raise ValueError(f"{where}.id must be a non-empty string")
            action = rule.get("action")
            if action not in _ACTIONS:
                raise ValueError(f"{where}.action must be one of {_ACTIONS}, got {action!r}")
            terms = rule.get("terms")
            if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
                raise ValueError(f"{where}.terms must be a non-empty list of non-empty strings")
            rules.append(_Rule(rule_id, str(rule.get("description", "")), action,
                               tuple((term, term_pattern(term)) for term in terms)))
        return cls(rules)

    def matches(self, text: str) -> list[PolicyMatch]:
        """Every rule term found in text, in policy order (block and review alike)."""
        found = []
        for rule in self._rules:
            for term, pattern in rule.terms:
                if pattern.search(text):
                    found.append(PolicyMatch(rule.rule_id, term, rule.action, rule.description))
        return found

    def check(self, text: str) -> PolicyVerdict:
        found = self.matches(text)
        return PolicyVerdict(blocked=[m for m in found if m.action == "block"],
                             review=[m for m in found if m.action == "review"])


@dataclass(frozen=True, slots=True)
class PolicyVerdict:
    blocked: list[PolicyMatch]
    review: list[PolicyMatch]

    @property
    def allowed(self) -> bool:
        return not self.blocked

    def review_notes(self) -> list[str]:
        return [f"content policy review: rule {m.rule_id} matched \u201c{m.term}\u201d" for m in self.review]


def load_content_policy() -> ContentPolicy:
    """policies/content_policy.json, loaded and compiled (the composition root does it once, at cold start)."""
    from sgd.resources import load_json

    try:
        return ContentPolicy.from_document(load_json("policies", "content_policy.json"))
    except ValueError as error:
        from sgd.settings import ConfigurationError

        raise ConfigurationError(f"invalid policies/content_policy.json: {error}") from None
