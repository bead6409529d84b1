"""The patterns of personal data, and the words that are never names.

Every pattern is applied to user text, so every one runs in linear time
(bounded repetition, bounded look-back).
"""

from __future__ import annotations

import re

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
    r"(?<![\w.])\w{1,40}(?:"
    + _DOT
    + r"\w{1,40}){0,3}"
    + _AT
    + r"(?!(?i:www)\b)\w{1,40}(?:"
    + _DOT
    + r"\w{1,40}){0,4}"
    + _DOT
    + _SPELT_TLDS
    + r"(?![\w])"
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
_DIGITS = r"\d(?:" + _SEP + r"\d){5,13}"  # bounded: linear time
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)44"
    + _SEP
    + r"(?:\(0\)"
    + _SEP
    + r")?"
    + _DIGITS
    + r"|\(0\d{2,5}\)"
    + _SEP
    + _DIGITS
    + r"|0"
    + _DIGITS
    + r"|7\d{3}"
    + _SEP
    + r"\d{3}"
    + _SEP
    + r"\d{3}"  # a mobile without its trunk 0
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
_NW = (
    rf"(?:[{_UP}][{_LO}]*['’])?[{_UP}][{_LO}]+(?:[{_UP}][{_LO}]+)*"
    rf"(?:-[{_UP}][{_LO}]+)*"
)
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
_LEX_WORD = re.compile(
    r"(?<![\w\[-])(?P<w>[^\W\d_][^\W\d_'’-]{0,40}(?:[-'’][^\W\d_]{1,40}){0,2})"
    r"(?:['’]s)?(?![\w\]])"
)
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
