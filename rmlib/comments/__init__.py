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

from ._base import OTHER_THEME, PLACEHOLDERS, CommentsConfigError, RedactionLists, Theme
from .config import load_redaction_lists, load_theme_dictionary, parse_redaction_lists, parse_theme_dictionary
from .lexicon import name_lexicon
from .normalise import normalise_text
from .patterns import BUILTIN_ALLOW_WORDS
from .quotes import example_quotes
from .redact import mask_personal, redact, redact_comments, redact_series, redact_with_counts, structured_leaks
from .themes import code_themes, is_informative, theme_counts, theme_labels

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
    "structured_leaks",
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
