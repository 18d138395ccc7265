"""Writes policies/confusables_ascii.json: every single character that Unicode's confusables data (UTS #39,
confusables.txt) lists as confusable with an ASCII letter or digit, mapped to that letter or digit (lower case).

The content policy (sgd.render.content_policy) folds text through this table before matching, so a Cyrillic o
(U+043E) or a mathematical bold o (U+1D428) reads as "o". The source is the confusables data as packaged by
confusable_homoglyphs 3.3.1 (MIT; generated from Unicode's confusables.txt):
`pip download confusable_homoglyphs==3.3.1 --no-deps`, unzip, and

    python scripts/confusables_table.py path/to/confusable_homoglyphs/confusables.json > policies/confusables_ascii.json

Only single characters are kept (a sequence such as "rn" for "m" is a spelling, not a lookalike of one character);
characters NFKC already maps to ASCII are left out (the policy applies NFKC first).
"""

from __future__ import annotations

import json
import string
import sys
import unicodedata

ASCII = set(string.ascii_lowercase + string.digits)
BIDI_MARKS = "\u200e\u200f"


def table(groups: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    mapping: dict[str, str] = {}

    def add(char: str, target: str) -> None:
        char = char.strip(BIDI_MARKS)
        if len(char) != 1 or char.isascii():
            return
        if unicodedata.normalize("NFKC", char).casefold() in ASCII:
            return
        mapping.setdefault(char, target)

    for key, members in groups.items():
        key = key.strip(BIDI_MARKS)
        for member in members:
            other = member["c"].strip(BIDI_MARKS)
            if key.isascii() and key.lower() in ASCII:
                add(other, key.lower())
            elif other.isascii() and other.lower() in ASCII:
                add(key, other.lower())
    return dict(sorted(mapping.items()))


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        document = table(json.load(source))
    json.dump({"source": "Unicode confusables.txt (UTS #39) via confusable_homoglyphs 3.3.1",
               "map": document}, sys.stdout, ensure_ascii=False, indent=0, sort_keys=False)
    sys.stdout.write("\n")
