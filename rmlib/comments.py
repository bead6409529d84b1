"""Free-text comments: personal-data redaction and theme coding.

The survey's comment boxes are the only place where respondents can write
anything, so they are the only place where personal data can enter the
outputs. The rule of this module is therefore simple:

* raw comment text (the ``comments`` table, ``respondent_id, group, field,
  text``) never leaves ``data/processed``;
* everything shown to a reader goes through :func:`redact_comments` first, and
  :func:`example_quotes` refuses a frame that has not been through it.

Redaction
---------
:func:`redact` first normalises the text (:func:`normalise_text`: Unicode NFKC,
zero-width and other invisible characters removed, every run of whitespace one
space) and never changes it after redaction, so the patterns see exactly the
text that is published. It then replaces personal data with typed placeholders, in this order
(the order matters: an e-mail address contains a domain, a URL can contain a
name, a name cue can precede a phone number):

1. ``[email]``      e-mail addresses (plus-addressing, sub-domains, accented
   letters), and addresses spelled out ("john dot smith at essex dot gov dot
   uk", "j.smith (at) essex [dot] gov [dot] uk").
2. ``[url]``        ``http(s)://...``, ``www....`` and bare domains ending in
   a common TLD (``example.co.uk/path``, ``essex.gov.uk``).
3. ``[NI number]``  National Insurance numbers (``AB 12 34 56 C``,
   ``AB123456C``, ``AB 12 34 56``; valid prefix letters, suffix A-D optional).
4. ``[phone]``      UK numbers: ``01xxx``/``02x``/``03xx``/``07xxx``/``08xx``/
   ``09xx``, ``+44``/``0044`` (optionally ``(0)``), ``(01245) 123456``, with
   spaces, dots, hyphens, any dash or slashes; 9 or 10 digits after the trunk
   ``0``; a mobile written without its ``0`` (``7700 900123``).
5. ``[postcode]``   UK postcodes in any case, with or without the space
   (``CM1 1QH``, ``cm11qh``, ``GIR 0AA``); an all-lower-case candidate whose
   inward part reads as an ordinal (``m25 2nd``) is left alone.
6. ``[name]``       people's names, by five rules (no named-entity model is
   used, so this is a heuristic):

   a. **deny-list**: any entry of ``deny_names`` (single names or full
      names), case-insensitive, whole word; the deny-list wins over the
      allow-list.
   b. **title**: ``Mr Mrs Ms Miss Mx Dr Cllr Councillor Sir Dame Prof``
      (optionally with a full stop and initials) followed by one or two
      capitalised words (``Mrs Patel``, ``Dr J. Smith``). The title is
      redacted with the name.
   c. **cue phrase**: "my name is", "speak/spoke/spoken/talk(ed) to|with",
      "contact(ed)", "call(ed)", "phone(d)", "rang", "e-mail(ed)",
      "ask(ed) (for)", "thanks (to)", "thank you", "dear", "hi", "hello",
      "met (with)", "meeting with", "worked with", "named", "chased"
      (any case), or a lower-case role noun ("worker", "manager",
      "officer", "commissioner", "coordinator", "colleague"), followed by
      capitalised words: the leading words that are not allow-listed are
      redacted (``contact Sarah in Finance`` -> ``contact [name] in
      Finance``; ``contact Essex County Council`` is untouched).
   d. **affiliation**: one or two capitalised words, not allow-listed,
      followed by "from", "at" or "in", an optional "the/our/your/ECC" and a
      word of the allow-list file (``Zoë from the hub``, ``Kevin in
      Safeguarding``, ``Sarah at the council``). At the start of a sentence
      words that all look like common nouns (end in -s, -ing, -tion, -ment,
      -ness, -ity, -ance, -ence, -ship, ...: ``Delays from the team``,
      ``Guidance from the council``) are left alone.
   e. **capitalised pair**: two or more consecutive capitalised words that
      are not allow-listed, not at the start of a sentence/line/bullet
      (``we spoke with Sarah Jones about`` -> ``we spoke with [name]
      about``). A sentence-initial word never counts, so ``Sarah Jones was
      helpful.`` at the start of a sentence is caught only by (a)-(d).

   A "capitalised word" is ``Sarah``, ``O'Brien``, ``McDonald``,
   ``Smith-Jones`` (optionally with ``'s``); acronyms (``ECC``, ``CQC``)
   and all-lower-case words never are. A word is allow-listed if its
   lower-case form (or its singular: ``-s``, ``-es``, ``-ies``->``-y``) is
   in ``allow_words`` (phrases are split into words) or in the built-in
   list of common English words, question words, days and months
   (:data:`BUILTIN_ALLOW_WORDS`).

   f. **self-naming**: "my name is", "my name's", "I am called", "signed",
      "regards" and the like, followed by one or two words in any case.
   g. **name lexicon** (:func:`name_lexicon`, from the Faker package): a
      known given name followed by a surname in any case (``JOHN SMITH``,
      ``john smith``) or by a capitalised word, and a known given name on its
      own in title or upper case (``Sarah was great``, ``thanks to KEVIN``),
      anywhere in a sentence; never a word of the allow-lists.

Every pattern runs in linear time (bounded repetition, bounded look-back):
a 128 KB comment takes well under a second (``benchmarks/redaction_speed.py``).

Known limits (stated in the report's methods):

* there is no NER: a name in neither the deny-list nor the name lexicon with
  no cue (an unusual first name alone, a nickname), a lower-case first name
  alone (``sarah was great``), or a surname alone opening a sentence is not
  caught;
* a first name that is also a built-in or everyday word (``May``, ``June``,
  ``Will``, ``Grace``, ``Hope``) is never caught by rules (c)-(g);
* deny-list matching is case-insensitive, so a deny-listed name that is also
  an English word (``Rose``, ``Will``) is redacted wherever the word occurs;
* an allow-listed word that is also a surname (``Harlow``) protects that
  surname in rules (c)-(e);
* rule (e) also redacts unknown proper-noun pairs such as care-home or
  company names (``Sunnyside Lodge``) and Title-Case phrases
  (``Poorly Managed``) as ``[name]``: over-redaction is the chosen failure;
* phone numbers are recognised by shape: any 10-11 digit string starting
  with a UK trunk prefix is a ``[phone]``.

Themes
------
:func:`code_themes` assigns each informative comment every theme of the
theme dictionary (``params/themes.yaml``) whose keyword patterns match,
restricted to the groups a theme applies to; a comment matching none is
coded ``other``. Keywords are lower-case regular expressions matched
case-insensitively at word boundaries (``\\b(?:kw)\\b``; a space matches
any whitespace; write stems as ``fund\\w*``). Comments that say nothing
("n/a", "none", "no comment", "-") are not coded and are not counted as
commenting respondents (:func:`is_informative`).
"""
from __future__ import annotations

import functools
import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "PLACEHOLDERS",
    "BUILTIN_ALLOW_WORDS",
    "OTHER_THEME",
    "CommentsConfigError",
    "RedactionLists",
    "Theme",
    "normalise_text",
    "mask_personal",
    "name_lexicon",
    "redact",
    "redact_with_counts",
    "redact_series",
    "redact_comments",
    "is_informative",
    "code_themes",
    "theme_counts",
    "theme_labels",
    "example_quotes",
    "load_theme_dictionary",
    "parse_theme_dictionary",
    "load_redaction_lists",
    "parse_redaction_lists",
]

#: Placeholder written in place of each kind of personal data.
PLACEHOLDERS: dict[str, str] = {
    "email": "[email]",
    "url": "[url]",
    "ni": "[NI number]",
    "phone": "[phone]",
    "postcode": "[postcode]",
    "name": "[name]",
}

_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))

#: Theme given to an informative comment that matches no theme.
OTHER_THEME = "other"
OTHER_LABEL = "Other / not coded"

_GROUP_ORDER = ("provider", "officer")
_COMMENT_COLUMNS = ("respondent_id", "group", "field", "text")

# ---------------------------------------------------------------------------
# errors and configuration objects
# ---------------------------------------------------------------------------


class CommentsConfigError(ValueError):
    """A theme dictionary or redaction list is malformed.

    The message names the file, the offending key and what was expected.
    """


class RedactionLists(NamedTuple):
    """The two lists :func:`redact` takes, as read from ``params/redaction.yaml``.

    Unpacks in argument order: ``redact_comments(df, *lists)``.
    """

    deny_names: tuple[str, ...]
    allow_words: tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    """One entry of the theme dictionary.

    Attributes
    ----------
    id : str
        Stable snake_case id used in tables (``money``).
    label : str
        Short label for reports.
    description : str
        What the theme covers (printed in the methods section).
    groups : tuple of str
        Groups whose comments can carry it (``provider``, ``officer``).
    keywords : tuple of str
        Lower-case regular expressions, matched case-insensitively at word
        boundaries.
    sources : tuple of str
        Where the theme comes from (2016 review Appendix D, 2018 report).
    """

    id: str
    label: str
    description: str
    groups: tuple[str, ...]
    keywords: tuple[str, ...]
    sources: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        """All keywords as one compiled, case-insensitive pattern."""
        return _compile_keywords(self.keywords)

    def applies_to(self, group: str) -> bool:
        return group in self.groups

    def matches(self, text: str) -> bool:
        return bool(self.pattern.search(text))


def _keyword_regex(keyword: str) -> str:
    return r"\b(?:" + re.sub(r" +", r"\\s+", keyword.strip()) + r")\b"


@functools.lru_cache(maxsize=None)
def _compile_keywords(keywords: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_keyword_regex(k) for k in keywords), re.IGNORECASE)


# ---------------------------------------------------------------------------
# redaction: patterns
# ---------------------------------------------------------------------------

# Every pattern below is applied to user text, so every one runs in linear time:
# no nested unbounded repetition, every repeated group bounded (a 128 KB comment
# is redacted in well under a second: benchmarks/redaction_speed.py).
_EMAIL = re.compile(
    r"(?<![\w.+-])\w[\w.%+-]{0,63}@"
    r"\w(?:[\w-]{0,62}\w)?(?:\.\w(?:[\w-]{0,62}\w)?){0,8}"
    r"\.[^\W\d_]{2,24}(?![\w])"
)
# An address spelled out: "john dot smith at essex dot gov dot uk",
# "j.smith (at) essex [dot] gov [dot] uk". The domain must end in a common TLD.
_AT = r"(?:\s?[\(\[\{<]\s?at\s?[\)\]\}>]\s?|\s(?i:at)\s)"
_DOT = r"(?:\s?[\(\[\{<]\s?dot\s?[\)\]\}>]\s?|\s(?i:dot)\s|\.)"
_SPELT_TLDS = r"(?i:com|org|net|uk|gov|nhs|ac|co|info|biz|io|eu)"
_EMAIL_SPELT = re.compile(
    r"(?<![\w.])\w{1,40}(?:" + _DOT + r"\w{1,40}){0,3}" + _AT
    + r"(?!(?i:www)\b)\w{1,40}(?:" + _DOT + r"\w{1,40}){0,4}" + _DOT + _SPELT_TLDS + r"(?![\w])"
)

_TLDS = r"(?:com|org|net|info|biz|io|eu|uk)"
_URL = re.compile(
    r"(?:\bhttps?://[^\s<>\"']*"
    r"|\bwww\.[^\s<>\"']+"
    r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.){1,8}" + _TLDS + r"\b(?:/[^\s<>\"']*)?)",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}'\""

# National Insurance: two prefix letters (not D F I Q U V; second not O),
# six digits (optionally in pairs), suffix A-D (optional: "AB 12 34 56" is
# redacted too).
_NI = re.compile(
    r"(?<![\w])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?:[ -]?\d{2}){3}(?:[ -]?[A-D])?(?![\w])",
    re.IGNORECASE,
)

# Separators inside a phone number: space, dot, hyphen, any dash, slash
# (text is normalised first: tabs and no-break spaces are spaces by then).
_SEP = r"[ .\-/\u2010-\u2015\u2212]?"
_DIGITS = r"\d(?:" + _SEP + r"\d){5,13}"   # bounded: linear time
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)44" + _SEP + r"(?:\(0\)" + _SEP + r")?" + _DIGITS
    + r"|\(0\d{2,5}\)" + _SEP + _DIGITS
    + r"|0" + _DIGITS
    + r"|7\d{3}" + _SEP + r"\d{3}" + _SEP + r"\d{3}"   # a mobile without its trunk 0
    + r")(?![\w])"
)
_PHONE_SEPS = set(" .-/\u2010\u2011\u2012\u2013\u2014\u2015\u2212")

_POSTCODE = re.compile(
    r"(?<![\w])(?:GIR ?0AA|"
    r"[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRVWXY\d]?)"
    r" ?\d[ABD-HJLNP-UW-Z]{2})(?![\w])",
    re.IGNORECASE,
)
_ORDINAL_INWARD = re.compile(r"\d(?:st|nd|rd|th)$", re.IGNORECASE)

# A capitalised word (Sarah, O'Brien, D'Souza, McDonald, Smith-Jones), with
# an optional possessive kept outside group "w".
_UP, _LO = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_NW = (rf"(?:[{_UP}][{_LO}]*['’])?[{_UP}][{_LO}]+(?:[{_UP}][{_LO}]+)*"
       rf"(?:-[{_UP}][{_LO}]+)*")
_NAME_WORD = re.compile(r"(?<![\w'’-])(?P<w>" + _NW + r")(?:['’]s)?(?![\w'’])")
_NWP = r"(?<![\w'’-])" + _NW + r"(?:['’]s)?(?![\w'’])"  # inline version

_TITLE = re.compile(
    r"(?<![\w])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Cllr|Councillor|Sir|Dame|Prof|MR|MRS|MS|DR)\.?[ \t]+"
    r"(?:[A-Z]\.?[ \t]+){0,2}"
    r"(?P<run>" + _NWP + r"(?:[ \t]+" + _NWP + r")?)"
)

_CUE = re.compile(
    r"(?=[mMnNsStTcCpPrReEaAdDhHwWoOlL])"  # cheap first-letter filter (speed only)
    r"(?:(?i:\b(?:my[ \t]+name[ \t]+is|name[ \t]+is"
    r"|speak(?:ing)?[ \t]+(?:to|with)|spoken?[ \t]+(?:to|with)|spoke[ \t]+(?:to|with)"
    r"|talk(?:ed|ing)?[ \t]+(?:to|with)"
    r"|contact(?:ed|ing)?|call(?:ed|ing)?|phon(?:e|ed|ing)|rang|ring"
    r"|e-?mail(?:ed|ing)?|ask(?:ed|ing)?(?:[ \t]+for)?"
    r"|thanks(?:[ \t]+to)?|thank[ \t]+you(?:[ \t]+to)?|dear|hi|hello"
    r"|met(?:[ \t]+with)?|meeting[ \t]+with|worked[ \t]+with|named|chased))"
    r"|\b(?:worker|manager|officer|commissioner|co-?ordinator|colleague))"
    r"[ \t]+(?P<run>" + _NWP + r"(?:[ \t]+" + _NWP + r"){0,2})"
)

# "Sarah from Finance", "Zoë at the hub", "Kevin in Safeguarding": capitalised
# word(s) + from/at/in + [the|our|your|ECC] + a word of the allow-list file.
_AFFIL = re.compile(
    r"(?P<run>" + _NWP + r"(?:[ \t]+" + _NWP + r")?)"
    r"[ \t]+(?:from|at|in)[ \t]+(?:(?:the|our|your|ECC)[ \t]+)?"
    r"(?P<next>[A-Za-z][A-Za-z'’-]*)"
)
# "my name is john smith", "my name's", "I am called", "signed", "regards": the
# next one or two words in any case (rule c only takes capitalised words).
_SELF_NAME = re.compile(
    r"(?=[mMiIsSkKrRbBy])(?P<cue>\b(?i:my name is|my name's|my name’s|i am called|i'm called|i’m called|signed|"
    r"kind regards|regards|best wishes|many thanks|yours sincerely|yours faithfully)[,:]? )"
    r"(?P<run>[^\W\d_][\w'’-]{0,40}(?: [^\W\d_][\w'’-]{0,40})?)"
)
# any word (Unicode letters), not inside a placeholder, possessive outside "w"
_LEX_WORD = re.compile(r"(?<![\w\[-])(?P<w>[^\W\d_][^\W\d_'’-]{0,40}(?:[-'’][^\W\d_]{1,40}){0,2})"
                       r"(?:['’]s)?(?![\w\]])")
# A sentence-initial word with these endings is taken for a common noun
# ("Delays from the team"), not a name.
_NOUNLIKE = re.compile(r"(?:s|ing|tion|sion|ment|ness|ity|ance|ence|ship|ive|ful|less)$")

#: Capitalised words that are never names on their own account: pronouns,
#: determiners, conjunctions, prepositions, auxiliaries, question words,
#: months, days and common survey adjectives. Domain words (departments,
#: places) belong in ``params/redaction.yaml``.
BUILTIN_ALLOW_WORDS: frozenset[str] = frozenset(
    """
    person people everyone everybody anyone anybody someone somebody nobody noone nothing
    i we they you he she it our ours their theirs my mine your yours his her hers its us them me
    the a an this that these those some any all each every no not none both many most few much
    more less other others another such same own one two three four five six seven eight nine ten
    first second third fourth fifth last next previous
    and but or nor so yet if although though because as since while whilst unless until also
    however therefore then thus otherwise overall generally recently currently sometimes often
    usually always never still just only even again already really very quite rather too
    perhaps maybe possibly probably certainly definitely clearly sadly unfortunately fortunately
    hopefully honestly personally frankly finally initially lately
    what who whom whose which why how when where whether whatever whoever wherever
    in on at by for from with without to of about after before during over under between
    within across through into onto upon against among amongst around near via per re
    is are was were be been being am have has had do does did done can could will would
    should shall may might must need needs
    yes ok okay please thanks thank dear hi hello regards kind best sincerely
    good great excellent poor bad fair better best worse worst fine nice lovely helpful unhelpful
    difficult easy clear unclear positive negative mixed improved improving new old late early slow
    quick fast prompt timely happy unhappy disappointed frustrated frustrating concerned important
    true false high low big small large long short full part
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
    christmas easter bank holiday holidays new year spring summer autumn winter
    note na n/a nb etc ie eg
    feedback response reply update news help advice input contact access visit call email
    letter word change work time turnover pressure demand cost money budget delay problem issue
    concern question request query complaint experience relationship capacity morale lack lots
    level standard referral funding payment invoice fee rate price communication engagement
    consultation information process system decision plan policy everything something anything
    aside apart away far back increase decrease rise fall drop reduction growth gap shortfall
    difference
    """.split()
)

_EMPTY_COMMENT = re.compile(
    r"^\W*(?:n\W?a|n/a|none|nil|no|nothing|nothing (?:else|further|to (?:add|say|report))"
    r"|no(?:ne)? (?:further |other |additional )?comments?|not applicable|see above"
    r"|no comment at this time)?\W*$",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------
# normalisation: applied before any pattern, and nothing transforms the text after
# ---------------------------------------------------------------------------

_ZERO_WIDTH = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                         "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_ANY_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """The form of a comment that is redacted and then published unchanged.

    Unicode NFKC (full-width digits and letters, ligatures, no-break and
    other compatibility spaces become their plain forms), zero-width and
    other invisible format characters removed (so ``077\u200b00 900123`` is
    a phone number), every run of whitespace of any kind (tab, CR/LF,
    no-break space, line/paragraph separator) made one space, ends stripped.
    :func:`redact` calls it first; nothing changes the text after redaction,
    so the patterns see exactly what is published.

    Examples
    --------
    >>> normalise_text("07700\u00a0900123\tcall  me\u200b")
    '07700 900123 call me'
    """
    t = unicodedata.normalize("NFKC", text)
    t = _ZERO_WIDTH.sub("", t)
    return _ANY_SPACE.sub(" ", t).strip()


#: Given names that are also everyday English words: never redacted on the
#: name lexicon's word alone (a cue, title or deny-list still catches them).
_NAME_WORD_EXCEPTIONS = frozenset("""
    mark grace hope joy faith rose bill sue pat art dawn summer autumn april june will may ray
    jack bob rob frank sandy amber ruby holly ivy lily daisy heather iris jade crystal destiny
    honor patience chase hunter mason cash major king prince duke earl sterling royal guy don
    jean lane dean dale glen cliff gene sky river angel star miles ash carol chance christian
    page paige price reed rich sunny gay joe bud buck bishop carter cole cook drew ellis
    forest grant hall harper ken lee long madison major marshall millie nick norman parker
    penny pearl porter sage shelby stone taylor tucker wade ward young august
    essex london paris florence sydney victoria chelsea ireland jersey israel georgia
    virginia carolina dakota trinity unique precious genesis harmony liberty justice
    """.split())


@functools.lru_cache(maxsize=1)
def name_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """Lower-case (given names, surnames) from the Faker package's person data.

    Faker (a maintained PyPI package) ships name lists per locale; the
    British, Irish, American, Indian-English and Nigerian-English lists are
    combined (the survey's respondents are UK care staff). Used by the
    lexicon rule of :func:`redact` for names the cue rules miss: names in
    capitals or lower case, a first name on its own, a name opening a
    sentence. Words that are also common English words
    (:data:`BUILTIN_ALLOW_WORDS`, a short list of word-like given names) and
    the allow-list (places, departments) are never redacted by it.
    """
    import importlib

    given: set[str] = set()
    family: set[str] = set()
    for loc in ("en_GB", "en_IE", "en_US", "en_IN", "en_NG", "en_NZ", "en_AU", "en_CA"):
        try:
            prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ImportError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            given.update(str(n).lower() for n in getattr(prov, attr, ()) or ())
        family.update(str(n).lower() for n in getattr(prov, "last_names", ()) or ())
    if not given:
        raise ImportError("the name lexicon needs the 'faker' package (pip install faker); "
                          "it is a dependency in pyproject.toml")
    clean = lambda names: frozenset(n for n in names if n.isalpha() and len(n) > 1)  # noqa: E731
    return clean(given), clean(family)


# ---------------------------------------------------------------------------
# redaction: the compiled redactor
# ---------------------------------------------------------------------------


def _normalise_word(word: str) -> str:
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return w


def _word_forms(word: str) -> tuple[str, ...]:
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
        allow: set[str] = set(BUILTIN_ALLOW_WORDS)
        for phrase in allow_words:
            for part in re.split(r"[\s/]+", phrase):
                part = part.strip(".,;:()\"")
                if part:
                    allow.add(_normalise_word(part))
                    allow.update(_normalise_word(p) for p in part.split("-") if p)
        self.allow = frozenset(allow)
        #: words that come only from the allow-list file (departments, places...)
        self.domain = frozenset(allow - BUILTIN_ALLOW_WORDS)
        names = sorted({" ".join(n.split()) for n in deny_names if n and n.strip()},
                       key=lambda n: (-len(n), n))
        if names:
            alts = []
            for n in names:
                words = [re.escape(w).replace("'", "['’]").replace("’", "['’]") for w in n.split(" ")]
                alts.append(r"\s+".join(words))
            self.deny: re.Pattern[str] | None = re.compile(
                r"(?<![\w])(?:" + "|".join(alts) + r")(?![\w])", re.IGNORECASE)
        else:
            self.deny = None

    # -- helpers -----------------------------------------------------------
    def allowed(self, word: str) -> bool:
        return any(f in self.allow for f in _word_forms(word))

    @staticmethod
    def _sub(pattern: re.Pattern[str], kind: str, text: str, counts: Counter,
             check=None) -> str:
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
        text = self._sub(_EMAIL, "email", text, counts)
        text = self._sub(_EMAIL_SPELT, "email", text, counts)

        def url(m: re.Match[str]) -> str:
            s = m.group(0)
            stripped = s.rstrip(_URL_TRAILING)  # sentence punctuation stays outside
            counts["url"] += 1
            return PLACEHOLDERS["url"] + s[len(stripped):]

        text = self._sub(_URL, "url", text, counts, check=url)
        text = self._sub(_NI, "ni", text, counts)

        def phone(m: re.Match[str]) -> str:
            s = m.group(0)
            # Try the whole match, then shorter prefixes cut at separators,
            # so "01245 123456 2 times" still yields "[phone] 2 times".
            cuts = [len(s)] + [i for i in range(len(s) - 1, 0, -1)
                               if s[i] in _PHONE_SEPS and s[i - 1].isdigit()]
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
            return ph + run[last.end("w"):]

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
            return prefix + ph + run[last.end("w"):]

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
            if (_sentence_initial(m.string, m.start() + first.start())
                    and all(_NOUNLIKE.search(w.group("w").lower()) for w in taken)):
                return m.group(0)
            counts["name"] += 1
            return run[:first.start()] + ph + m.group(0)[taken[-1].end("w"):]

        text = _AFFIL.sub(affiliation, text)
        return self._pairs(text, counts)

    def _pairs(self, text: str, counts: Counter) -> str:
        tokens = list(_NAME_WORD.finditer(text))
        if len(tokens) < 2:
            return text
        # group tokens into runs separated only by spaces/tabs
        runs: list[list[re.Match[str]]] = [[tokens[0]]]
        for prev, tok in zip(tokens, tokens[1:]):
            gap = text[prev.end():tok.start()]
            if gap and gap.strip(" \t") == "" and not text[prev.end("w"):prev.end()]:
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
        """"my name is john smith", "signed: jane doe": the words after the cue, any case."""
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
            rest = " ".join(words[len(taken):])
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
            while j + 1 < len(toks) and j - i < 2 and text[toks[j].end():toks[j + 1].start()] == " ":
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
        counts: Counter = Counter()
        text = normalise_text(text)          # first, and nothing transforms the text after
        text = self.structured(text, counts)
        text = self.names(text, counts)
        text = self.self_named(text, counts)
        text = self.lexicon(text, counts)
        return text, counts


def _valid_uk_phone(s: str) -> bool:
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
    if "\n" in before[len(stripped):] or "\r" in before[len(stripped):]:
        return True
    last = stripped[-1]
    if last in ".!?\n\r":
        return True
    if last in "-•*–—":
        rest = stripped[:-1].rstrip(" \t")
        return not rest or rest[-1] in "\n\r"
    return False


def _as_tuple(values: Iterable[str] | str | None, what: str) -> tuple[str, ...]:
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
    return text if out == norm else out   # nothing found: the message keeps its own spacing


def redact_with_counts(text: str, deny_names: Iterable[str] = (),
                       allow_words: Iterable[str] = ()) -> tuple[str, dict[str, int]]:
    """Redact ``text`` and report how many items of each kind were replaced.

    Returns
    -------
    (str, dict)
        The redacted text and ``{kind: count}`` for the kinds in
        :data:`PLACEHOLDERS` that occurred.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    redactor = _get_redactor(_as_tuple(deny_names, "deny_names"),
                             _as_tuple(allow_words, "allow_words"))
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


def _redact_values(values: Iterable[Any], deny: tuple[str, ...],
                   allow: tuple[str, ...]) -> tuple[list[Any], list[int]]:
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


def redact_series(texts: pd.Series, deny_names: Iterable[str] = (),
                  allow_words: Iterable[str] = ()) -> pd.Series:
    """Apply :func:`redact` to every element of a Series (index and name kept)."""
    out, _ = _redact_values(texts, _as_tuple(deny_names, "deny_names"),
                            _as_tuple(allow_words, "allow_words"))
    return pd.Series(out, index=texts.index, name=texts.name, dtype=object)


def redact_comments(comments: pd.DataFrame, deny_names: Iterable[str] = (),
                    allow_words: Iterable[str] = ()) -> pd.DataFrame:
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
    texts, counts = _redact_values(comments["text"], _as_tuple(deny_names, "deny_names"),
                                   _as_tuple(allow_words, "allow_words"))
    out = comments.copy()
    out["text"] = pd.Series(texts, index=comments.index, dtype=object)
    if pd.api.types.is_string_dtype(comments["text"].dtype) and comments["text"].dtype != object:
        out["text"] = out["text"].astype(comments["text"].dtype)  # keep a str/string dtype
    out["redactions"] = pd.Series(counts, index=comments.index, dtype="int64")
    return out


# ---------------------------------------------------------------------------
# theme coding
# ---------------------------------------------------------------------------


def is_informative(text: Any) -> bool:
    """False for blank or content-free answers ("n/a", "none", "no comment", "-")."""
    if not isinstance(text, str):
        return False
    return not _EMPTY_COMMENT.match(text.strip())


def _check_comments(comments: pd.DataFrame, name: str = "comments",
                    extra: Sequence[str] = ()) -> None:
    if not isinstance(comments, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame, got {type(comments).__name__}")
    missing = [c for c in (*_COMMENT_COLUMNS, *extra) if c not in comments.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; expected "
                         f"{list(_COMMENT_COLUMNS) + list(extra)}, got {list(comments.columns)}")


def _informative(comments: pd.DataFrame) -> pd.DataFrame:
    keep = comments["text"].map(is_informative).astype(bool)
    return comments.loc[keep]


def _as_themes(themes: Sequence[Theme] | Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Theme]:
    if isinstance(themes, Mapping):
        return parse_theme_dictionary(themes)
    themes = list(themes)
    if all(isinstance(t, Theme) for t in themes):
        return themes
    return parse_theme_dictionary({"themes": themes})


def _group_key(group: str) -> tuple[int, str]:
    return (_GROUP_ORDER.index(group) if group in _GROUP_ORDER else len(_GROUP_ORDER), str(group))


def code_themes(comments: pd.DataFrame, themes: Sequence[Theme]) -> pd.DataFrame:
    """Code each informative comment with every matching theme.

    Parameters
    ----------
    comments : DataFrame
        ``respondent_id, group, field, text`` (raw or redacted; one row per
        respondent and field).
    themes : list of Theme
        From :func:`load_theme_dictionary` (a parsed mapping is accepted).

    Returns
    -------
    DataFrame
        Long form ``respondent_id, group, field, theme``: one row per comment
        and theme, ``theme == "other"`` when no applicable theme matched.
        Blank and content-free comments (:func:`is_informative`) get no row.
        Sorted by group (providers first), respondent, field, then theme in
        dictionary order.

    Examples
    --------
    >>> t = [Theme("money", "Money", "", ("provider", "officer"), (r"fund\\w*",))]
    >>> df = pd.DataFrame({"respondent_id": ["P1", "P2"], "group": "provider",
    ...                    "field": "c", "text": ["Underfunded? No: funding cut", "Lovely staff"]})
    >>> code_themes(df, t)["theme"].tolist()
    ['money', 'other']
    """
    _check_comments(comments)
    theme_list = _as_themes(themes)
    dup = comments.duplicated(["respondent_id", "field"], keep=False)
    if dup.any():
        pairs = comments.loc[dup, ["respondent_id", "field"]].drop_duplicates().head(5)
        raise ValueError("comments must have one row per respondent and field; duplicated "
                         f"(respondent_id, field): {list(map(tuple, pairs.to_numpy()))}")
    order = {t.id: i for i, t in enumerate(theme_list)}
    order[OTHER_THEME] = len(theme_list)
    rows = []
    informative = _informative(comments)
    for rid, group, field, raw in zip(informative["respondent_id"], informative["group"],
                                      informative["field"], informative["text"]):
        text = _PLACEHOLDER_RE.sub(" ", raw)
        found = [t.id for t in theme_list if t.applies_to(group) and t.matches(text)]
        rows.extend((rid, group, field, theme) for theme in found or [OTHER_THEME])
    rows.sort(key=lambda r: (_group_key(r[1]), str(r[0]), str(r[2]), order[r[3]]))
    return pd.DataFrame(rows, columns=["respondent_id", "group", "field", "theme"], dtype=object)


def theme_labels(themes: Sequence[Theme]) -> dict[str, str]:
    """``{theme id: label}`` including ``other``."""
    labels = {t.id: t.label for t in _as_themes(themes)}
    labels[OTHER_THEME] = OTHER_LABEL
    return labels


def theme_counts(coded: pd.DataFrame, comments: pd.DataFrame,
                 themes: Sequence[Theme] | None = None) -> pd.DataFrame:
    """Frequency of each theme per group.

    Parameters
    ----------
    coded : DataFrame
        Output of :func:`code_themes`.
    comments : DataFrame
        The comments that were coded (gives the base: respondents in the
        group with at least one informative comment).
    themes : list of Theme, optional
        If given, every theme applicable to a group appears (with zeros),
        and ``label`` comes from the dictionary.

    Returns
    -------
    DataFrame
        ``group, theme, label, comments, respondents, base, pct_respondents``
        where ``comments`` counts coded comments (respondent x field),
        ``respondents`` distinct respondents, ``base`` the commenting
        respondents of the group and ``pct_respondents = 100 * respondents /
        base``. A respondent with several themes counts once in each theme,
        so percentages add up to more than 100. Sorted by group, then
        respondents (descending), then theme id, ``other`` last.
    """
    _check_comments(comments)
    for col in ("respondent_id", "group", "field", "theme"):
        if col not in coded.columns:
            raise ValueError(f"coded is missing column {col!r}; pass the output of code_themes()")
    informative = _informative(comments)
    base = informative.groupby("group")["respondent_id"].nunique()
    known = set(map(tuple, informative[["respondent_id", "group"]].drop_duplicates().to_numpy()))
    stray = [k for k in map(tuple, coded[["respondent_id", "group"]].drop_duplicates().to_numpy())
             if k not in known]
    if stray:
        raise ValueError("coded has respondents with no informative comment in `comments` "
                         f"(were different frames passed?): {stray[:5]}")
    uniq = coded.drop_duplicates(["respondent_id", "group", "field", "theme"])
    counts = (uniq.groupby(["group", "theme"])
              .agg(comments=("field", "size"), respondents=("respondent_id", "nunique"))
              .reset_index())
    labels: dict[str, str] = {OTHER_THEME: OTHER_LABEL}
    if themes is not None:
        theme_list = _as_themes(themes)
        labels.update(theme_labels(theme_list))
        # every group that appears in `comments`, even with no informative comment
        groups = sorted(set(comments["group"].dropna()) | set(counts["group"]), key=_group_key)
        full = [(g, t.id) for g in groups for t in theme_list if t.applies_to(g)]
        full += [(g, OTHER_THEME) for g in groups]
        idx = pd.MultiIndex.from_tuples(full, names=["group", "theme"])
        extra = set(map(tuple, counts[["group", "theme"]].to_numpy())) - set(full)
        if extra:
            raise ValueError(f"coded has themes not in the theme dictionary: {sorted(extra)[:5]}")
        counts = (counts.set_index(["group", "theme"]).reindex(idx, fill_value=0).reset_index())
    counts["label"] = counts["theme"].map(lambda t: labels.get(t, t))
    counts["comments"] = counts["comments"].astype("int64")
    counts["respondents"] = counts["respondents"].astype("int64")
    counts["base"] = counts["group"].map(base).fillna(0).astype("int64")
    counts["pct_respondents"] = np.where(counts["base"] > 0,
                                         100.0 * counts["respondents"] / counts["base"].where(counts["base"] > 0, 1),
                                         np.nan)
    counts = counts.assign(_g=counts["group"].map(_group_key), _o=counts["theme"] == OTHER_THEME)
    counts = counts.sort_values(["_g", "_o", "respondents", "theme"],
                                ascending=[True, True, False, True], kind="mergesort")
    cols = ["group", "theme", "label", "comments", "respondents", "base", "pct_respondents"]
    return counts[cols].reset_index(drop=True)


# ---------------------------------------------------------------------------
# example quotes
# ---------------------------------------------------------------------------


def _structured_leaks(text: str) -> list[str]:
    counts: Counter = Counter()
    _get_redactor((), ()).structured(text, counts)
    return sorted(counts)


def example_quotes(coded: pd.DataFrame, redacted_comments: pd.DataFrame, per_theme: int = 2,
                   seed: int = 0, min_words: int = 5, max_words: int = 60,
                   include_other: bool = False) -> pd.DataFrame:
    """Pick up to ``per_theme`` redacted quotes for each group and theme.

    Selection is deterministic for a given ``seed``: within a group x theme
    the candidate comments are ordered by (respondent_id, field), shuffled by
    a generator seeded with ``(seed, crc32(group), crc32(theme))``, and
    comments without any placeholder are preferred; at most one quote per
    respondent per theme. Comments of ``min_words`` to ``max_words`` words
    are used; if a theme has none, longer ones are cut to ``max_words``
    words and end with " ...".

    Parameters
    ----------
    coded : DataFrame
        Output of :func:`code_themes`.
    redacted_comments : DataFrame
        Output of :func:`redact_comments` (must carry the ``redactions``
        column). As a second guard, the candidate quotes are scanned for
        e-mails, URLs, NI numbers, phone numbers and postcodes; any hit raises
        ``ValueError`` (raw text was passed).
    per_theme : int
        Quotes per group and theme.
    seed : int
        Seed for the shuffle.
    include_other : bool
        Also quote comments coded ``other``.

    Returns
    -------
    DataFrame
        ``group, theme, rank, respondent_id, field, quote, redactions``.
    """
    if "redactions" not in getattr(redacted_comments, "columns", ()):
        raise ValueError("example_quotes needs redacted comments: pass the output of "
                         "redact_comments() (it has a 'redactions' column); got columns "
                         f"{list(getattr(redacted_comments, 'columns', []))}")
    _check_comments(redacted_comments, "redacted_comments", extra=("redactions",))
    for col in ("respondent_id", "group", "field", "theme"):
        if col not in coded.columns:
            raise ValueError(f"coded is missing column {col!r}; pass the output of code_themes()")
    if not isinstance(per_theme, (int, np.integer)) or per_theme < 1:
        raise ValueError(f"per_theme must be a positive int, got {per_theme!r}")
    if not (0 < min_words <= max_words):
        raise ValueError(f"need 0 < min_words <= max_words, got {min_words}, {max_words}")

    cand = coded.merge(redacted_comments[["respondent_id", "group", "field", "text", "redactions"]],
                       on=["respondent_id", "group", "field"], how="inner")
    if not include_other:
        cand = cand[cand["theme"] != OTHER_THEME]
    cand = cand[cand["text"].map(is_informative).astype(bool)]
    for text in cand["text"].drop_duplicates():
        leaks = _structured_leaks(text)
        if leaks:
            raise ValueError(f"redacted_comments still contains personal data ({', '.join(leaks)}): "
                             "pass the output of redact_comments(), not the raw comments")

    cols = ["group", "theme", "rank", "respondent_id", "field", "quote", "redactions"]
    rows = []
    keys = sorted(cand[["group", "theme"]].drop_duplicates().itertuples(index=False, name=None),
                  key=lambda k: (_group_key(k[0]), k[1] == OTHER_THEME, k[1]))
    for group, theme in keys:
        sub = cand[(cand["group"] == group) & (cand["theme"] == theme)]
        sub = sub.sort_values(["respondent_id", "field"], kind="mergesort").reset_index(drop=True)
        words = sub["text"].str.split().str.len()
        fits = (words >= min_words) & (words <= max_words)
        pool = sub[fits] if fits.any() else sub
        rng = np.random.default_rng([int(seed), zlib.crc32(str(group).encode()),
                                     zlib.crc32(str(theme).encode())])
        perm = rng.permutation(len(pool))
        pool = pool.iloc[perm]
        pool = pool.assign(_has=(pool["redactions"] > 0)).sort_values("_has", kind="mergesort")
        seen: set[str] = set()
        rank = 0
        for rec in pool.itertuples(index=False):
            if rec.respondent_id in seen:
                continue
            seen.add(rec.respondent_id)
            rank += 1
            quote = rec.text   # normalised before redaction: published exactly as redacted
            ws = quote.split(" ")
            if len(ws) > max_words:
                quote = " ".join(ws[:max_words]) + " ..."
            rows.append((group, theme, rank, rec.respondent_id, rec.field, quote, int(rec.redactions)))
            if rank >= per_theme:
                break
    out = pd.DataFrame(rows, columns=cols)
    out["rank"] = out["rank"].astype("int64")
    out["redactions"] = out["redactions"].astype("int64")
    return out


# ---------------------------------------------------------------------------
# loading the YAML parameter files
# ---------------------------------------------------------------------------

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_THEME_KEYS_REQUIRED = ("id", "label", "description", "groups", "keywords")
_THEME_KEYS_OPTIONAL = ("sources",)


def _read_yaml(path: str | Path, what: str) -> Any:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise CommentsConfigError(f"{what} file not found: {p}")
    try:
        with p.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise CommentsConfigError(f"{p}: not valid YAML ({exc})") from exc


def _str_list(value: Any, where: str, key: str, *, nonempty: bool = True) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise CommentsConfigError(f"{where}: key {key!r} must be a list of strings, "
                                  f"got {type(value).__name__} {value!r}")
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise CommentsConfigError(f"{where}: key {key!r} must contain only non-empty strings; "
                                  f"got {bad[:3]!r}")
    if nonempty and not value:
        raise CommentsConfigError(f"{where}: key {key!r} must be a non-empty list of strings")
    return tuple(v.strip() for v in value)


def parse_theme_dictionary(data: Any, source: str = "<theme dictionary>") -> list[Theme]:
    """Validate a theme dictionary already read from YAML (see :func:`load_theme_dictionary`)."""
    if not isinstance(data, Mapping) or "themes" not in data:
        raise CommentsConfigError(f"{source}: expected a mapping with a top-level key 'themes' "
                                  f"(a list of themes); got {type(data).__name__}")
    items = data["themes"]
    if not isinstance(items, list) or not items:
        raise CommentsConfigError(f"{source}: key 'themes' must be a non-empty list, "
                                  f"got {type(items).__name__}")
    themes: list[Theme] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"{source}: themes[{i}]"
        if not isinstance(item, Mapping):
            raise CommentsConfigError(f"{where}: expected a mapping with keys "
                                      f"{list(_THEME_KEYS_REQUIRED)}, got {type(item).__name__}")
        if isinstance(item.get("id"), str):
            where += f" (id {item['id']!r})"
        missing = [k for k in _THEME_KEYS_REQUIRED if k not in item]
        if missing:
            raise CommentsConfigError(f"{where}: missing key(s) {missing}; each theme needs "
                                      f"{list(_THEME_KEYS_REQUIRED)}")
        unknown = [k for k in item if k not in _THEME_KEYS_REQUIRED + _THEME_KEYS_OPTIONAL]
        if unknown:
            raise CommentsConfigError(f"{where}: unknown key(s) {unknown}; allowed keys are "
                                      f"{list(_THEME_KEYS_REQUIRED + _THEME_KEYS_OPTIONAL)}")
        tid = item["id"]
        if not isinstance(tid, str) or not _ID_RE.match(tid):
            raise CommentsConfigError(f"{where}: key 'id' must be a snake_case string "
                                      f"(a-z, 0-9, _), got {tid!r}")
        if tid == OTHER_THEME:
            raise CommentsConfigError(f"{where}: id {OTHER_THEME!r} is reserved for uncoded comments")
        if tid in seen:
            raise CommentsConfigError(f"{where}: duplicate theme id {tid!r}")
        seen.add(tid)
        for key in ("label", "description"):
            if not isinstance(item[key], str) or not item[key].strip():
                raise CommentsConfigError(f"{where}: key {key!r} must be a non-empty string, "
                                          f"got {item[key]!r}")
        groups_raw = item["groups"]
        if isinstance(groups_raw, str):
            groups_raw = [groups_raw]
        groups = _str_list(groups_raw, where, "groups")
        bad = [g for g in groups if g not in ("provider", "officer", "both")]
        if bad:
            raise CommentsConfigError(f"{where}: key 'groups' must be 'provider', 'officer', "
                                      f"'both' or a list of the first two; got {bad!r}")
        groups = tuple(g for g in _GROUP_ORDER if g in groups or "both" in groups)
        keywords = _str_list(item["keywords"], where, "keywords")
        for kw in keywords:
            try:
                re.compile(_keyword_regex(kw))
            except re.error as exc:
                raise CommentsConfigError(f"{where}: keyword {kw!r} is not a valid regular "
                                          f"expression ({exc})") from exc
            if re.compile(re.sub(r" +", r"\\s+", kw)).fullmatch(""):
                raise CommentsConfigError(f"{where}: keyword {kw!r} matches the empty string")
        sources = _str_list(item.get("sources", []), where, "sources", nonempty=False)
        themes.append(Theme(tid, item["label"].strip(), " ".join(item["description"].split()),
                            groups, keywords, sources))
    return themes


def load_theme_dictionary(path: str | Path) -> list[Theme]:
    """Read and validate ``params/themes.yaml``.

    Expected shape::

        themes:
          - id: money                      # snake_case, unique, not "other"
            label: Money and the cost of care
            description: Fees, rates, funding, ...
            groups: both                   # provider | officer | both | [provider, officer]
            keywords: ["fees?", "fund\\w*", "cost of care"]   # regex, word-bounded
            sources: ["2016 review, Appendix D, provider theme 1"]   # optional

    Raises
    ------
    CommentsConfigError
        Naming the file, the theme and the key, and what was expected.
    """
    return parse_theme_dictionary(_read_yaml(path, "theme dictionary"), str(path))


def parse_redaction_lists(data: Any, source: str = "<redaction lists>") -> RedactionLists:
    """Validate redaction lists already read from YAML (see :func:`load_redaction_lists`)."""
    if not isinstance(data, Mapping):
        raise CommentsConfigError(f"{source}: expected a mapping with keys 'deny_names' and "
                                  f"'allow_words', got {type(data).__name__}")
    unknown = [k for k in data if k not in ("deny_names", "allow_words")]
    if unknown:
        raise CommentsConfigError(f"{source}: unknown key(s) {unknown}; expected 'deny_names' "
                                  "and 'allow_words'")
    lists = {}
    for key in ("deny_names", "allow_words"):
        if key not in data:
            raise CommentsConfigError(f"{source}: missing key {key!r} (a list of strings; "
                                      "may be empty: [])")
        value = data[key] if data[key] is not None else []
        lists[key] = _str_list(value, source, key, nonempty=False)
    return RedactionLists(lists["deny_names"], lists["allow_words"])


def load_redaction_lists(path: str | Path) -> RedactionLists:
    """Read and validate ``params/redaction.yaml``.

    Expected shape::

        deny_names:     # people's names, always redacted (case-insensitive)
          - Jane Doe
        allow_words:    # capitalised words/phrases that are not names
          - Essex County Council
          - Chelmsford

    Raises
    ------
    CommentsConfigError
        Naming the file, the key, and what was expected.
    """
    return parse_redaction_lists(_read_yaml(path, "redaction lists"), str(path))
