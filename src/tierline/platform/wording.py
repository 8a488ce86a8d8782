"""English in generated texts: the indefinite article before a word known only at run time.

`f"a {ticket.type} ticket"` reads "a incident ticket" the day the type is an incident; texts that name a value
take its article from `with_article` instead.
"""

from __future__ import annotations

# Letters whose spoken name starts with a vowel sound, for codes read letter by letter: an L2 queue, an SLA.
_VOWEL_SOUND_LETTERS = frozenset("AEFHILMNORSX")
# Words spelt with a vowel but spoken with a consonant first, and the reverse (lower case, by prefix).
_CONSONANT_SOUND_PREFIXES = ("one", "once", "uni", "use", "usa", "usu", "uti", "eu", "ewe")
_VOWEL_SOUND_PREFIXES = ("hour", "honest", "honour", "honor", "heir")


def _read_letter_by_letter(word: str) -> bool:
    """A code such as SLA, L2 or P1 (spoken as letters), not a word."""
    head = word[:2]
    return word[:1].isupper() and (len(word) == 1 or head.isupper() or head[1:].isdigit())


def article(word: str) -> str:
    """"a" or "an" before `word`."""
    if not word:
        return "a"
    if _read_letter_by_letter(word):
        return "an" if word[0] in _VOWEL_SOUND_LETTERS else "a"
    low = word.lower()
    if low.startswith(_VOWEL_SOUND_PREFIXES):
        return "an"
    if low.startswith(_CONSONANT_SOUND_PREFIXES):
        return "a"
    return "an" if low[0] in "aeiou" else "a"


def with_article(word: object) -> str:
    """`word` after its indefinite article: "an incident", "a bug", "an on_hold", "an L2", "a P1"."""
    text = str(word)
    return f"{article(text)} {text}"
