"""A ticket's recurrence signature: what makes two tickets "the same problem".

`<base>|c:<component id or ->`, where the base is
- the ticket's error code, normalised (upper case, separators as "-"): `DB-1042|c:12`; else
- a text fingerprint `fp:<16 hex>`: `fp:3f2a9c0d11b4e7aa|c:-`.

The component counts only when a person set it (triage.pipeline decides which `component_id` to pass): a
classifier's guess, a component named in the text or a rule's would split one problem in two.

The fingerprint is built so that the same problem written up by different customers collides and different
problems do not (tests/tickets/test_signature.py shows both on a small realistic corpus):
1. lower case; URLs, emails, UUIDs, hex ids, numbers and id-like tokens (`req_8f3k`, `pg-prod-123`, `45s`,
   `v2.3.1`) are masked, and the masks are not content, so "after 30s, request abc123" and "after 45s,
   request ffe901" read alike;
2. common phrasings are folded into one word (`timed out`/`times out`/`time-out` -> timeout, `log in`/
   `sign in`/`logon` -> login, `broken`/`error`/`not working` -> fail);
3. stop words are dropped: English function words and support filler (greetings, "urgent", "please help");
4. words are reduced by a light suffix stemmer (`exports`/`exporting`/`exported` -> export);
5. the top content tokens are chosen and sorted, and hashed. The subject names the problem; the description
   mostly tells a customer's own story (names, times, sign-offs). So when the subject has at least
   `MIN_SUBJECT_TOKENS` content tokens the fingerprint takes them (the top `TOP_TOKENS`, ranked by how often
   they recur in the description); only a vague subject ("Urgent help needed") is completed with the
   description's most frequent tokens.

Everything here is plain data and a few compiled regular expressions: about 5 µs per ticket when the subject
names the problem (the description is then not read at all), under 100 µs when the description is needed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from functools import lru_cache

TOP_TOKENS = 6
MIN_SUBJECT_TOKENS = 2
DESCRIPTION_CHARS = 4000  # a pasted log adds nothing after the first screens of text
EMPTY_FINGERPRINT = "fp:none"  # no content at all: such tickets never make a problem

# A word with what may join its parts: dots, hyphens, apostrophes, and the characters of emails and URLs.
_CHUNK = re.compile(r"[^\W_][\w.'\u2019@+:/?=&%#~-]*")
_DIGIT = re.compile(r"\d")
_PRODUCT_WORD = re.compile(r"[^\W\d_]+\d")  # s3, oauth2, ipv6, ec2: content, unlike other words with digits
_SEPARATORS = re.compile(r"[_.@+:/?=&%#~-]+")

# Phrasings folded into one word, on the word sequence (after masking, before stop words).
UNIGRAMS: dict[str, str] = {
    **dict.fromkeys(("timeout", "timeouts", "timedout"), "timeout"),
    **dict.fromkeys(("login", "logins", "logon", "signin", "signon"), "login"),
    **dict.fromkeys(("email", "emails"), "email"),
    **dict.fromkeys(("broken", "failure", "failures", "error", "errors", "errored", "erroring"), "fail"),
}
BIGRAMS: dict[tuple[str, str], str] = {
    **{(t, "out"): "timeout" for t in ("time", "times", "timed", "timing")},
    **{(v, p): "login" for v in ("log", "logs", "logged", "logging", "sign", "signs", "signed", "signing")
       for p in ("in", "on")},
    **{("e", m): "email" for m in ("mail", "mails")},
    **{(n, w): "fail" for n in ("not", "doesnt", "dont", "isnt", "arent", "wont", "cant", "cannot", "never",
                                 "stopped") for w in ("work", "works", "working", "worked")},
}

STOP_WORDS = frozenset("""
a about above after again against all almost already also am an and any anyone anything are as at be because
been before being below between both but by can cannot cant could did didnt do does doesnt doing dont down
during each either else even ever every few for from further had has have having he her here hers him his how
however i if in into is isnt it its itself just least less let like made make makes many may me might more
most much must my myself neither never no nor not now of off often on once only or other our ours out over
own per perhaps quite rather really same she should so some someone something still such than that the their
them then there these they this those though through thus to too under until up upon us very via was wasnt we
were werent what when where whether which while who whom whose why will with within without wont would yet
you your yours yourself
hi hello hey dear team support thanks thank thx regards best cheers kind sincerely please pls plz help
urgent urgently asap immediately issue issues problem problems question questions ticket tickets hope well
today yesterday tomorrow morning afternoon evening tonight week weekend monday tuesday wednesday thursday
friday saturday sunday since ago recently suddenly seem seems seemed getting get gets got seeing see saw
experiencing experience facing face noticed notice trying try tried able unable need needs needed want
wanted know let lets look looks looking going go anymore sure thing things way lot lots time times one two
re fw fwd regarding subject attached attachment screenshot hear asap again still currently keep keeps
kept happen happens happening happened everything nothing whole entire customer customers company right
""".split())

# A light suffix stemmer (no dependency, a few rules): enough to make exported/exports/exporting and
# time/times/timing meet, never so eager that different words do.
_UNDOUBLE_EXCEPT = frozenset("lsz")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith("es"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = _undouble(word[:-3])
    elif len(word) > 4 and word.endswith("ed"):
        word = _undouble(word[:-2])
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def _undouble(word: str) -> str:
    last = word[-1:]
    if len(word) > 2 and last == word[-2] and last not in _UNDOUBLE_EXCEPT and last not in "aeiou":
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words with URLs, emails, numbers and ids masked out (dropped: a mask is not content).

    Any word holding a digit is a number or an id (UUIDs, hex ids, `INV-2024-1`, `req_8f3k`, `45s`, `v2.3.1`)
    unless it is letters and one final digit (s3, oauth2). Words joined by separators without digits are
    split (time-out, us-east).
    """
    out: list[str] = []
    for chunk in _CHUNK.findall(text.lower()):
        if chunk.isalpha():
            out.append(chunk)
            continue
        if "@" in chunk or "://" in chunk or chunk.startswith("www."):
            continue  # an email or a URL
        chunk = chunk.replace("'", "").replace("\u2019", "").strip("_.@+:/?=&%#~-")
        if _DIGIT.search(chunk):
            if _PRODUCT_WORD.fullmatch(chunk):
                out.append(chunk)
            continue
        out.extend(part for part in _SEPARATORS.split(chunk) if part)
    return out


def fold(sequence: list[str]) -> list[str]:
    """Fold common phrasings into one word (`timed out` -> timeout, `sign in` -> login)."""
    out: list[str] = []
    i, n = 0, len(sequence)
    while i < n:
        word = sequence[i]
        if i + 1 < n and (word, sequence[i + 1]) in BIGRAMS:
            out.append(BIGRAMS[(word, sequence[i + 1])])
            i += 2
            continue
        out.append(UNIGRAMS.get(word, word))
        i += 1
    return out


def content_tokens(text: str) -> list[str]:
    """The text's content words, in order: masked, folded, stop words dropped, stemmed."""
    return [stem(w) for w in fold(words(text)) if len(w) >= 2 and w not in STOP_WORDS]


def fingerprint_tokens(*, subject: str, description: str) -> list[str]:
    """The sorted tokens a fingerprint is made of (shown by explain and the tests)."""
    subject_tokens = content_tokens(subject)
    in_subject = Counter(subject_tokens)
    if MIN_SUBJECT_TOKENS <= len(in_subject) <= TOP_TOKENS:
        return sorted(in_subject)  # the common case: the description cannot change the choice
    description_tokens = content_tokens(description[:DESCRIPTION_CHARS])
    in_description = Counter(description_tokens)
    first_seen: dict[str, int] = {}
    for i, token in enumerate(subject_tokens + description_tokens):
        first_seen.setdefault(token, i)
    candidates = list(in_subject) if len(in_subject) >= MIN_SUBJECT_TOKENS else list(first_seen)
    ranked = sorted(candidates,
                    key=lambda t: (-(3 * in_subject[t] + in_description[t]), first_seen[t]))
    return sorted(ranked[:TOP_TOKENS])


def fingerprint(*, subject: str, description: str) -> str:
    tokens = fingerprint_tokens(subject=subject, description=description)
    if not tokens:
        return EMPTY_FINGERPRINT
    return "fp:" + hashlib.sha1(" ".join(tokens).encode()).hexdigest()[:16]


def normalise_error_code(code: str | None) -> str | None:
    """`db_1042 ` -> `DB-1042`, `http 503` -> `HTTP-503`; nothing left -> None."""
    if not code:
        return None
    normalised = re.sub(r"[^A-Z0-9]+", "-", code.upper()).strip("-")
    return normalised[:100] or None


def signature_for(*, error_code: str | None, subject: str, description: str, component_id: int | None) -> str:
    base = normalise_error_code(error_code) or fingerprint(subject=subject, description=description)
    return f"{base}|c:{'-' if component_id is None else component_id}"


def component_of(signature: str | None) -> int | None:
    """The component id a signature counts (None: `c:-`, or no signature)."""
    if not signature or "|c:" not in signature:
        return None
    part = signature.rsplit("|c:", 1)[1]
    return int(part) if part.isdigit() else None


def is_recurrence_signature(signature: str | None) -> bool:
    """Signatures of tickets with neither an error code nor any content never make a problem."""
    return bool(signature) and not signature.startswith(EMPTY_FINGERPRINT + "|")
