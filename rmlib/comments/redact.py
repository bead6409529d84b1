"""Redaction: the compiled redactor (patterns, then the name rules) and the functions that apply it.

The rules, their order and their limits are stated in :mod:`rmlib.comments`.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any, Iterable

import pandas as pd

from ._base import PLACEHOLDERS
from .lexicon import _NAME_WORD_EXCEPTIONS, name_lexicon
from .normalise import normalise_text
from .patterns import (
    _AFFIL,
    _CUE,
    _EMAIL,
    _EMAIL_SPELT,
    _LEX_WORD,
    _NAME_WORD,
    _NI,
    _NOUNLIKE,
    _ORDINAL_INWARD,
    _PHONE,
    _PHONE_SEPS,
    _POSTCODE,
    _SELF_NAME,
    _TITLE,
    _URL,
    _URL_TRAILING,
    BUILTIN_ALLOW_WORDS,
)


def _normalise_word(word: str) -> str:
    """Lower case, straight apostrophe, possessive 's dropped: the form looked up in the allow-list."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return w


def _word_forms(word: str) -> tuple[str, ...]:
    """The word and its candidate singulars (-ies -> -y, -es, -s), for the allow-list look-up."""
    w = _normalise_word(word)
    forms = [w]
    if w.endswith("ies") and len(w) > 4:
        forms.append(w[:-3] + "y")
    if w.endswith("es") and len(w) > 3:
        forms.append(w[:-2])
    if w.endswith("s") and len(w) > 2:
        forms.append(w[:-1])
    return tuple(forms)


def _names_replaced(text: str, spans: list[tuple[int, int]], counts: Counter) -> str:
    """``text`` with each (start, end) span, in order and not overlapping, replaced by the name marker."""
    out, pos = [], 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(PLACEHOLDERS["name"])
        counts["name"] += 1
        pos = end
    out.append(text[pos:])
    return "".join(out)


class _Redactor:
    """Compiled deny/allow lists; build through :func:`_get_redactor` (cached)."""

    def __init__(self, deny_names: tuple[str, ...], allow_words: tuple[str, ...]):
        """Compile the allow-list words (with their parts) and the deny-list into one pattern."""
        allow: set[str] = set(BUILTIN_ALLOW_WORDS)
        for phrase in allow_words:
            for part in re.split(r"[\s/]+", phrase):
                part = part.strip('.,;:()"')
                if part:
                    allow.add(_normalise_word(part))
                    allow.update(_normalise_word(p) for p in part.split("-") if p)
        self.allow = frozenset(allow)
        #: words that come only from the allow-list file (departments, places...)
        self.domain = frozenset(allow - BUILTIN_ALLOW_WORDS)
        names = sorted({" ".join(n.split()) for n in deny_names if n and n.strip()}, key=lambda n: (-len(n), n))
        if names:
            alts = []
            for n in names:
                words = [re.escape(w).replace("'", "['’]").replace("’", "['’]") for w in n.split(" ")]
                alts.append(r"\s+".join(words))
            self.deny: re.Pattern[str] | None = re.compile(
                r"(?<![\w])(?:" + "|".join(alts) + r")(?![\w])", re.IGNORECASE
            )
        else:
            self.deny = None

    # -- helpers -----------------------------------------------------------
    def allowed(self, word: str) -> bool:
        """True if the word (or a singular of it) is allow-listed: never a name."""
        return any(f in self.allow for f in _word_forms(word))

    @staticmethod
    def _sub(pattern: re.Pattern[str], kind: str, text: str, counts: Counter, check=None) -> str:
        """Replace every match by the placeholder, or by ``check(match)`` if given
        (``check`` then does its own counting and may decline a match)."""
        placeholder = PLACEHOLDERS[kind]

        def repl(m: re.Match[str]) -> str:
            if check is not None:
                return check(m)
            counts[kind] += 1
            return placeholder

        return pattern.sub(repl, text)

    # -- structured patterns -------------------------------------------------
    def structured(self, text: str, counts: Counter) -> str:
        """Rules 1-5: e-mails, URLs, NI numbers, phones and postcodes, in that order."""
        text = self._sub(_EMAIL, "email", text, counts)
        text = self._sub(_EMAIL_SPELT, "email", text, counts)

        def url(m: re.Match[str]) -> str:
            s = m.group(0)
            stripped = s.rstrip(_URL_TRAILING)  # sentence punctuation stays outside
            counts["url"] += 1
            return PLACEHOLDERS["url"] + s[len(stripped) :]

        text = self._sub(_URL, "url", text, counts, check=url)
        text = self._sub(_NI, "ni", text, counts)

        def phone(m: re.Match[str]) -> str:
            s = m.group(0)
            # Try the whole match, then shorter prefixes cut at separators,
            # so "01245 123456 2 times" still yields "[phone] 2 times".
            cuts = [len(s)] + [i for i in range(len(s) - 1, 0, -1) if s[i] in _PHONE_SEPS and s[i - 1].isdigit()]
            for cut in cuts:
                if _valid_uk_phone(s[:cut]):
                    counts["phone"] += 1
                    return PLACEHOLDERS["phone"] + s[cut:]
            return s

        text = self._sub(_PHONE, "phone", text, counts, check=phone)

        def postcode(m: re.Match[str]) -> str:
            s = m.group(0)
            if _ORDINAL_INWARD.search(s) and not s.isupper():
                return s
            counts["postcode"] += 1
            return PLACEHOLDERS["postcode"]

        text = self._sub(_POSTCODE, "postcode", text, counts, check=postcode)
        return text

    # -- names ----------------------------------------------------------------
    def names(self, text: str, counts: Counter) -> str:
        """Rules 6a-6d: deny-list, title, cue phrase and affiliation; then the capitalised pairs (6e)."""
        ph = PLACEHOLDERS["name"]
        if self.deny is not None:
            text = self._sub(self.deny, "name", text, counts)

        def title(m: re.Match[str]) -> str:
            # the title, initials and name go; a second word that is
            # allow-listed ("Mr Smith Social Worker") and a possessive stay
            run = m.group("run")
            words = list(_NAME_WORD.finditer(run))
            last = words[0] if len(words) == 2 and self.allowed(words[1].group("w")) else words[-1]
            counts["name"] += 1
            return ph + run[last.end("w") :]

        text = _TITLE.sub(title, text)

        def cue(m: re.Match[str]) -> str:
            run = m.group("run")
            words = list(_NAME_WORD.finditer(run))
            taken = []
            for w in words:
                if self.allowed(w.group("w")):
                    break
                taken.append(w)
            if not taken:
                return m.group(0)
            counts["name"] += 1
            prefix = m.group(0)[: m.start("run") - m.start(0)]
            last = taken[-1]
            return prefix + ph + run[last.end("w") :]

        text = _CUE.sub(cue, text)

        def affiliation(m: re.Match[str]) -> str:
            if not any(f in self.domain for f in _word_forms(m.group("next"))):
                return m.group(0)
            run = m.group("run")
            words = list(_NAME_WORD.finditer(run))
            taken = []
            for w in reversed(words):
                if self.allowed(w.group("w")):
                    break
                taken.insert(0, w)
            if not taken:
                return m.group(0)
            first = taken[0]
            if _sentence_initial(m.string, m.start() + first.start()) and all(
                _NOUNLIKE.search(w.group("w").lower()) for w in taken
            ):
                return m.group(0)
            counts["name"] += 1
            return run[: first.start()] + ph + m.group(0)[taken[-1].end("w") :]

        text = _AFFIL.sub(affiliation, text)
        return self._pairs(text, counts)

    def _pairs(self, text: str, counts: Counter) -> str:
        """Rule 6e: two or more capitalised, not allow-listed words that do not open a sentence."""
        tokens = list(_NAME_WORD.finditer(text))
        if len(tokens) < 2:
            return text
        # group tokens into runs separated only by spaces/tabs
        runs: list[list[re.Match[str]]] = [[tokens[0]]]
        for prev, tok in zip(tokens, tokens[1:]):
            gap = text[prev.end() : tok.start()]
            if gap and gap.strip(" \t") == "" and not text[prev.end("w") : prev.end()]:
                runs[-1].append(tok)
            else:
                runs.append([tok])
        spans: list[tuple[int, int]] = []
        for run in runs:
            if len(run) < 2:
                continue
            if _sentence_initial(text, run[0].start()):
                run = run[1:]
            i = 0
            while i < len(run):
                if self.allowed(run[i].group("w")):
                    i += 1
                    continue
                j = i
                while j + 1 < len(run) and not self.allowed(run[j + 1].group("w")):
                    j += 1
                if j > i:
                    spans.append((run[i].start(), run[j].end("w")))
                i = j + 1
        return _names_replaced(text, spans, counts)

    def self_named(self, text: str, counts: Counter) -> str:
        """ "my name is john smith", "signed: jane doe": the words after the cue, any case."""

        def repl(m: re.Match[str]) -> str:
            words = m.group("run").split(" ")
            taken = []
            for w in words:
                if _normalise_word(w) in BUILTIN_ALLOW_WORDS or self.allowed(w):
                    break
                taken.append(w)
            if not taken:
                return m.group(0)
            counts["name"] += 1
            rest = " ".join(words[len(taken) :])
            return m.group("cue") + PLACEHOLDERS["name"] + (" " + rest if rest else "")

        return _SELF_NAME.sub(repl, text)

    def lexicon(self, text: str, counts: Counter) -> str:
        """Names the cue rules miss, by the name lexicon (:func:`name_lexicon`).

        A known given name followed by a surname (or, in title or upper case,
        by any capitalised word that is not allow-listed), in any case
        (``JOHN SMITH``, ``john smith``, ``Sarah Jones`` opening a
        sentence), and a known given name on its own in title or upper case
        (``Sarah was great``, ``thanks to KEVIN``). Allow-listed words,
        common English words and word-like given names are never taken.
        """
        given, family = name_lexicon()
        toks = list(_LEX_WORD.finditer(text))
        if not toks:
            return text

        def kind(m):
            w = m.group("w")
            if w.isupper() and len(w) > 1:
                return "upper"
            if w[0].isupper() and (len(w) == 1 or not w[1:].isupper()):
                return "title"
            return "lower" if w.islower() else "other"

        def usable(m) -> bool:
            w = m.group("w")
            return not (self.allowed(w) or _normalise_word(w) in BUILTIN_ALLOW_WORDS)

        def is_given(m) -> bool:
            lw = m.group("w").lower()
            if lw not in given:
                return False
            return lw in given and lw not in _NAME_WORD_EXCEPTIONS and usable(m)

        def is_family(m) -> bool:
            return _normalise_word(m.group("w")) in family and usable(m)

        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if not is_given(t):
                i += 1
                continue
            k = kind(t)
            if k == "other":
                i += 1
                continue
            j = i
            while j + 1 < len(toks) and j - i < 2 and text[toks[j].end() : toks[j + 1].start()] == " ":
                nxt = toks[j + 1]
                nk = kind(nxt)
                if k == "lower":
                    ok = nk == "lower" and is_family(nxt)
                else:
                    ok = nk in ("title", "upper") and (is_family(nxt) or usable(nxt))
                if not ok:
                    break
                j += 1
            if j > i or k in ("title", "upper"):
                spans.append((t.start(), toks[j].end("w")))
            i = j + 1
        return _names_replaced(text, spans, counts)

    def __call__(self, text: str) -> tuple[str, Counter]:
        """Normalise, then apply every rule in order; returns the text and the count per kind."""
        counts: Counter = Counter()
        text = normalise_text(text)  # first, and nothing transforms the text after
        text = self.structured(text, counts)
        text = self.names(text, counts)
        text = self.self_named(text, counts)
        text = self.lexicon(text, counts)
        return text, counts


def _valid_uk_phone(s: str) -> bool:
    """True if a phone-shaped match has the digits of a UK number (9 or 10 after the trunk 0)."""
    digits = re.sub(r"\D", "", s)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif s.lstrip().startswith("+44"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    elif digits.startswith("7") and len(digits) == 10:
        pass  # a mobile written without its trunk 0
    else:
        return False
    if digits.startswith("0"):  # +44 (0)...
        digits = digits[1:]
    return 9 <= len(digits) <= 10 and digits[0] in "1235789"


def _sentence_initial(text: str, start: int) -> bool:
    """True if position ``start`` begins a sentence, line or bullet."""
    lo = max(0, start - 64)  # a bounded look-back: linear time over a long comment
    before = text[lo:start]
    stripped = before.rstrip(" \t\"'“‘([")
    if not stripped:
        return lo == 0
    if "\n" in before[len(stripped) :] or "\r" in before[len(stripped) :]:
        return True
    last = stripped[-1]
    if last in ".!?\n\r":
        return True
    if last in "-•*–—":
        rest = stripped[:-1].rstrip(" \t")
        return not rest or rest[-1] in "\n\r"
    return False


def _as_tuple(values: Iterable[str] | str | None, what: str) -> tuple[str, ...]:
    """A list of strings as a tuple (hashable, for the redactor cache); a lone string is refused."""
    if values is None:
        return ()
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of strings, not a single string {values!r}")
    out = tuple(values)
    bad = [v for v in out if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{what} must contain only strings; got {bad[:3]!r}")
    return out


@functools.lru_cache(maxsize=32)
def _get_redactor(deny_names: tuple[str, ...], allow_words: tuple[str, ...]) -> _Redactor:
    """The compiled redactor for these lists (cached: compiling the name rules is the slow part)."""
    return _Redactor(deny_names, allow_words)


def mask_personal(text: Any) -> Any:
    """Mask what looks like personal data in a short value quoted in a diagnostic message.

    For validation listings (:mod:`rmlib.clean`): e-mails (also spelled
    out), URLs, NI numbers, phone numbers, postcodes, and names found by the
    name lexicon, a title or "my name is"; unlike :func:`redact` it does not
    use the capitalised-pair rule, so option labels ("Service Placement
    Team") quoted in the message stay readable. Non-strings are returned
    unchanged.

    Examples
    --------
    >>> mask_personal("unknown role option 'John Smith 07700 900123'")
    "unknown role option '[name] [phone]'"
    """
    if not isinstance(text, str) or not text:
        return text
    r = _get_redactor((), ())
    counts: Counter = Counter()
    norm = normalise_text(text)
    out = r.structured(norm, counts)
    out = _TITLE.sub(lambda m: PLACEHOLDERS["name"], out)
    out = r.self_named(out, counts)
    out = r.lexicon(out, counts)
    return text if out == norm else out  # nothing found: the message keeps its own spacing


def redact_with_counts(
    text: str, deny_names: Iterable[str] = (), allow_words: Iterable[str] = ()
) -> tuple[str, dict[str, int]]:
    """Redact ``text`` and report how many items of each kind were replaced.

    Returns
    -------
    (str, dict)
        The redacted text and ``{kind: count}`` for the kinds in
        :data:`PLACEHOLDERS` that occurred.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    redactor = _get_redactor(_as_tuple(deny_names, "deny_names"), _as_tuple(allow_words, "allow_words"))
    out, counts = redactor(text)
    return out, dict(counts)


def redact(text: str, deny_names: Iterable[str] = (), allow_words: Iterable[str] = ()) -> str:
    """Replace personal data in one comment by typed placeholders.

    See the module docstring for the rules, their order and their limits:
    e-mails, URLs, NI numbers, UK phone numbers and postcodes by pattern;
    names by deny-list, title, cue phrase and mid-sentence capitalised pair
    (no named-entity recognition: a lone first name with no cue is not caught
    unless deny-listed).

    Parameters
    ----------
    text : str
        The comment. ``None``/NaN are returned unchanged.
    deny_names : iterable of str
        Names always redacted (case-insensitive, whole word).
    allow_words : iterable of str
        Capitalised words (or phrases, split into words) that are not names:
        departments, places, organisations.

    Examples
    --------
    >>> redact("Ring Sarah Jones on 07700 900123 or sarah.j@essex.gov.uk")
    'Ring [name] on [phone] or [email]'
    >>> redact("The Service Placement Team in Chelmsford", allow_words=["Service Placement Team", "Chelmsford"])
    'The Service Placement Team in Chelmsford'
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return text
    return redact_with_counts(text, deny_names, allow_words)[0]


def _redact_values(values: Iterable[Any], deny: tuple[str, ...], allow: tuple[str, ...]) -> tuple[list[Any], list[int]]:
    """Redact each value (missing ones kept); returns the texts and the placeholders written in each."""
    redactor = _get_redactor(deny, allow)
    texts, counts = [], []
    for v in values:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            texts.append(v)
            counts.append(0)
            continue
        if not isinstance(v, str):
            raise TypeError(f"comment text must be str, got {type(v).__name__}: {v!r}")
        out, c = redactor(v)
        texts.append(out)
        counts.append(sum(c.values()))
    return texts, counts


def redact_series(texts: pd.Series, deny_names: Iterable[str] = (), allow_words: Iterable[str] = ()) -> pd.Series:
    """Apply :func:`redact` to every element of a Series (index and name kept)."""
    out, _ = _redact_values(texts, _as_tuple(deny_names, "deny_names"), _as_tuple(allow_words, "allow_words"))
    return pd.Series(out, index=texts.index, name=texts.name, dtype=object)


def redact_comments(
    comments: pd.DataFrame, deny_names: Iterable[str] = (), allow_words: Iterable[str] = ()
) -> pd.DataFrame:
    """Return a copy of the ``comments`` table with ``text`` redacted.

    Adds an int column ``redactions``: the number of placeholders written
    into each comment. Only this frame (never the raw table) may be passed to
    :func:`example_quotes` or written outside ``data/processed``.

    Examples
    --------
    >>> df = pd.DataFrame({"respondent_id": ["P001"], "group": ["provider"],
    ...                    "field": ["comments"], "text": ["Email me: a.b@x.com"]})
    >>> out = redact_comments(df)
    >>> out.loc[0, "text"], int(out.loc[0, "redactions"])
    ('Email me: [email]', 1)
    """
    if not isinstance(comments, pd.DataFrame):
        raise TypeError(f"comments must be a DataFrame, got {type(comments).__name__}")
    if "text" not in comments.columns:
        raise ValueError(f"comments must have a 'text' column; got columns {list(comments.columns)}")
    texts, counts = _redact_values(
        comments["text"], _as_tuple(deny_names, "deny_names"), _as_tuple(allow_words, "allow_words")
    )
    out = comments.copy()
    out["text"] = pd.Series(texts, index=comments.index, dtype=object)
    if pd.api.types.is_string_dtype(comments["text"].dtype) and comments["text"].dtype != object:
        out["text"] = out["text"].astype(comments["text"].dtype)  # keep a str/string dtype
    out["redactions"] = pd.Series(counts, index=comments.index, dtype="int64")
    return out


def structured_leaks(text: str) -> list[str]:
    """The kinds of pattern-found personal data (e-mail, URL, NI number, phone, postcode) left in ``text``.

    A second guard for text that should already be redacted: the quotes and
    every published file are checked with it. Names are not looked for (their
    rules are heuristics; a redacted text can hold capitalised words).

    Examples
    --------
    >>> structured_leaks("call 07700 900123 or see www.example.com"), structured_leaks("[phone]")
    (['phone', 'url'], [])
    """
    counts: Counter = Counter()
    _get_redactor((), ()).structured(text, counts)
    return sorted(counts)
