"""The content policy (policies/content_policy.json): whole-word term matching that cannot be spelled around.

Text and terms are both folded the same way before matching (`fold`):

1. Unicode NFKC (fullwidth and mathematical letters, ligatures, superscripts become plain ones), one character at a
   time, so that a letter or digit stays a word character: what NFKC makes of it beyond letters, digits and marks is
   dropped ("ŀ" is "l", not "l·"), and one that becomes no letter at all (Greek ypogegrammeni) stands as "_";
2. format and zero-width characters removed (soft hyphen, zero-width space and joiners, bidi marks, BOM: Unicode
   category Cf) and accents and other marks dropped (NFD, then no marks: Mn, Mc, Me);
3. case folded, then every character Unicode's confusables data (UTS #39) lists as a lookalike of an ASCII letter or
   digit becomes that letter (a Cyrillic o (U+043E) reads "o"; policies/confusables_ascii.json, made by
   scripts/confusables_table.py);
4. inside a word that has a letter, common digit and symbol substitutions read as letters (0 o, 1 i, 3 e, 4 a, 5 s,
   7 t, 8 b, @ a, $ s, | i, and ! before a letter); i, l, 1, ! and | are one letter for matching, since each
   stands for the others.

A term matches only as a whole word, or for a multi-word term as a whole phrase: "meth" never matches "method",
"kill" never matches "skills". Each word of a term also matches its inflected forms: plural (-s, -es after a
sibilant), -ed, -ing and -ography/-ographic/-ographer ("nudes", "killing", "pornography"); a word glued to
another letter before it never matches ("grape", "therapist", "Scunthorpe", "assassin bug" pass their terms).
Whitespace inside a phrase may be any run of spaces or line breaks.
"""

from __future__ import annotations

import functools
import re
import unicodedata
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


_SUBSTITUTES = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s",
                "!": "i", "|": "i", "l": "i"}
_PUNCTUATION = "!"  # a letter only before another: "porn!" ends a sentence
_TOKEN = re.compile(r"[\w@$!|]+")
# Word forms a term's words also match, by how the word ends (-es only after a sibilant; -ed/-ing drop a final e).
_FORMS = ("s", "ed", "ing", "ography", "ographic", "ographer", "ographers", "ographies")


@functools.cache
def _confusables() -> dict[str, str]:
    from sgd.resources import load_json

    return dict(load_json("policies", "confusables_ascii.json")["map"])


def _fold_token(token: str) -> str:
    if not any(char.isalpha() for char in token):
        return token  # a number stays a number: "1080" is not "ioso"
    out = []
    for index, char in enumerate(token):
        if char in _PUNCTUATION and not (index + 1 < len(token) and token[index + 1].isalnum()):
            out.append(" ")  # punctuation after a word ("porn!") is not a letter
        else:
            out.append(_SUBSTITUTES.get(char, char))
    return "".join(out)


_DROPPED_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf"})  # marks (accents, spacing, enclosing) and format chars


def _compatibility_form(char: str) -> str:
    """NFKC of one character; a letter or digit stays one word character or more (glued stays glued)."""
    folded = unicodedata.normalize("NFKC", char)
    if folded == char or not char.isalnum():
        return folded
    wordy = "".join(part for part in folded if part.isalnum() or unicodedata.category(part).startswith("M"))
    return wordy if any(part.isalnum() for part in wordy) else "_"


def fold(text: str) -> str:
    """The form text and terms are compared in (see the module's docstring)."""
    text = "".join(_compatibility_form(char) for char in text)
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(char for char in decomposed if unicodedata.category(char) not in _DROPPED_CATEGORIES)
    confusables = _confusables()
    text = "".join(confusables.get(char, char) for char in kept.casefold())
    return _TOKEN.sub(lambda token: _fold_token(token.group(0)), text)


def _word_pattern(word: str) -> str:
    forms: list[str] = list(_FORMS)
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.append("es")
    stem = re.escape(word)
    if word.endswith("e") and len(word) > 2:  # nude -> nudes, nuded; massacre -> massacring
        return rf"(?:{stem}(?:s|d)?|{re.escape(word[:-1])}(?:ing|ed))"
    return rf"{stem}(?:{'|'.join(forms)})?"


def term_pattern(term: str) -> re.Pattern[str]:
    """A whole-word (or whole-phrase) pattern over folded text, each word with its inflected forms: no word character
    may touch either end."""
    words = fold(term).split()
    if not words:
        raise ValueError("a term must contain a word")
    phrase = r"\s+".join(_word_pattern(word) for word in words)
    return re.compile(rf"(?<!\w){phrase}(?!\w)", re.UNICODE)


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
        folded = fold(text)
        for rule in self._rules:
            for term, pattern in rule.terms:
                if pattern.search(folded):
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
