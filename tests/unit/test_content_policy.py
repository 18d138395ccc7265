"""The content policy matches whole words and phrases (and their inflected forms) only, after folding away the ways a
term can be spelled around: NFKC, format characters, accents, case, confusable lookalikes (UTS #39) and digit or
symbol substitutions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sgd.render.content_policy import ContentPolicy, load_content_policy

POLICY = ContentPolicy.from_document({"rules": [
    {"id": "violence", "description": "v", "terms": ["kill", "gun violence", "rape", "rapist"], "action": "block"},
    {"id": "drugs", "description": "d", "terms": ["meth", "cocaine"], "action": "block"},
    {"id": "places", "description": "p", "terms": ["cunt", "ass"], "action": "block"},
    {"id": "adult", "description": "a", "terms": ["porn", "nude"], "action": "block"},
    {"id": "claims", "description": "c", "terms": ["approved by the fda"], "action": "review"},
]})


@pytest.mark.parametrize("text", [
    "Workshop on new skills for designers",  # kill inside skills
    "Our method works",  # meth inside method
    "Visit Scunthorpe this spring",
    "Killer deals",  # a different word that starts with the term
    "gunviolence is one word here",
    "Méthode française",  # é is a letter: no boundary before 'thode'
])
def test_substrings_never_match(text: str) -> None:
    assert POLICY.matches(text) == []


@pytest.mark.parametrize(("text", "rule", "term"), [
    ("Don't KILL the vibe", "violence", "kill"),
    ("stop Gun   Violence\nnow", "violence", "gun violence"),
    ("no meth.", "drugs", "meth"),
    ("«meth»", "drugs", "meth"),
    ("meth-free", "drugs", "meth"),
])
def test_whole_words_and_phrases_match_case_insensitively(text: str, rule: str, term: str) -> None:
    (match,) = POLICY.matches(text)
    assert (match.rule_id, match.term, match.action) == (rule, term, "block")


def test_review_rules_do_not_block() -> None:
    verdict = POLICY.check("Sunscreen approved by the FDA")
    assert verdict.allowed
    assert [m.rule_id for m in verdict.review] == ["claims"]
    assert verdict.review_notes() == ["content policy review: rule claims matched \u201capproved by the fda\u201d"]


@given(prefix=st.text(alphabet=st.characters(categories=["L", "Nd"]), min_size=1, max_size=5),
       suffix=st.text(alphabet=st.characters(categories=["L", "Nd"]), min_size=0, max_size=5))
def test_a_term_glued_after_any_letter_or_digit_never_matches(prefix: str, suffix: str) -> None:
    assert POLICY.matches(f"{prefix}meth{suffix}") == []


@pytest.mark.parametrize(("text", "term"), [
    # spelled around: fullwidth, zero-width and format characters, lookalikes from other scripts, digits, accents
    ("\uff43\uff4f\uff43\uff41\uff49\uff4e\uff45 for sale", "cocaine"),  # fullwidth
    ("co\u00adcaine", "cocaine"),  # soft hyphen
    ("coc\u200baine", "cocaine"),  # zero-width space
    ("co\u200dcai\u2060ne", "cocaine"),  # zero-width joiner, word joiner
    ("c\u043ecaine", "cocaine"),  # Cyrillic o
    ("\u0441\u043e\u0441\u0430ine", "cocaine"),  # Cyrillic s-o-s-a
    ("c0caine", "cocaine"),
    ("C0C41NE", "cocaine"),
    ("co\u0301caine", "cocaine"),  # a combining accent
    ("\U0001d41c\U0001d428\U0001d41c\U0001d41a\U0001d422\U0001d427\U0001d41e", "cocaine"),  # mathematical bold
    ("m3th", "meth"),
    ("k1ll", "kill"),
    ("ki||", "kill"),
    ("p@rn".replace("@", "0"), "porn"),
    ("$kill", None),  # "$" reads as "s": "skill" is not "kill"
    ("p\u03bfrn", "porn"),  # Greek omicron
    ("ki\u0903ll", "kill"),  # a spacing mark (Devanagari visarga) inside the word
    # glued to a letter that NFKC or NFD turns partly or wholly into a non-letter: still glued
    ("\u0140meth", None),  # l with middle dot: NFKC "l\u00b7"
    ("\u037ameth", None),  # Greek ypogegrammeni: NFKC a space and a combining mark
    ("\u0b94meth", None),  # Tamil au: NFD a letter and a spacing mark
    ("porn!", "porn"),
    # word forms
    ("nudes", "nude"),
    ("pornography", "porn"),
    ("pornographic posters", "porn"),
    ("killing it", "kill"),
    ("killed", "kill"),
    ("kills", "kill"),
    ("rapes", "rape"),
    ("guns violence", "gun violence"),
    ("gun\u00a0violences", "gun violence"),
    # benign words that contain a term, or sit close to one, still pass
    ("skills", None),
    ("Scunthorpe", None),
    ("therapist", None),
    ("the rapist", "rapist"),
    ("assassin bug", None),
    ("grape", None),
    ("grapes and grappa", None),
    ("Killer deals", None),
    ("method acting", None),
    ("heroines of the harvest", None),
    ("classic pass", None),
    ("1080x1080 square post", None),
    ("Méthode française", None),
])
def test_a_term_cannot_be_spelled_around_and_benign_words_pass(text: str, term: str | None) -> None:
    assert [match.term for match in POLICY.matches(text)] == ([term] if term else [])


@given(before=st.sampled_from([" ", "\n", ".", ",", "(", "\"", "-", ""]),
       after=st.sampled_from([" ", "\n", ".", "!", ")", "\"", "-", ""]))
def test_a_term_between_non_word_characters_always_matches(before: str, after: str) -> None:
    assert [m.term for m in POLICY.matches(f"x{before}MeTh{after}y".replace("x" + before + "M", before + "M")
                                           if not before else f"x{before}MeTh{after}")] in (["meth"], [])
    assert [m.term for m in POLICY.matches(f"{before}MeTh{after}")] == ["meth"]


@pytest.mark.parametrize(("document", "message"), [
    ({"rules": [{"id": "", "terms": ["x"], "action": "block"}]}, "rules[0].id"),
    ({"rules": [{"id": "a", "terms": ["x"], "action": "ban"}]}, "rules[0].action"),
    ({"rules": [{"id": "a", "terms": [], "action": "block"}]}, "rules[0].terms"),
    ({"rules": [{"id": "a", "terms": ["  "], "action": "review"}]}, "rules[0].terms"),
])
def test_a_malformed_policy_is_refused_naming_the_field(document: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ContentPolicy.from_document(document)


def test_the_shipped_policy_blocks_and_reviews_as_written() -> None:
    policy = load_content_policy()
    assert policy.check("Our method builds skills").allowed
    assert not policy.check("nudes").allowed
    assert not policy.check("pornography").allowed
    assert not policy.check("\uff43\uff4f\uff43\uff41\uff49\uff4e\uff45").allowed
    blocked = policy.check("A poster about METH addiction").blocked
    assert [(m.rule_id, m.term) for m in blocked] == [("drugs.illegal", "meth")]
    assert [m.rule_id for m in policy.check("Officially endorsed by   everyone").review] == ["impersonation.brands"]
