"""The name lexicon: given names and surnames from the Faker package, for the lexicon rule."""

from __future__ import annotations

import functools

#: Given names that are also everyday English words: never redacted on the
#: name lexicon's word alone (a cue, title or deny-list still catches them).
_NAME_WORD_EXCEPTIONS = frozenset(
    """
    mark grace hope joy faith rose bill sue pat art dawn summer autumn april june will may ray
    jack bob rob frank sandy amber ruby holly ivy lily daisy heather iris jade crystal destiny
    honor patience chase hunter mason cash major king prince duke earl sterling royal guy don
    jean lane dean dale glen cliff gene sky river angel star miles ash carol chance christian
    page paige price reed rich sunny gay joe bud buck bishop carter cole cook drew ellis
    forest grant hall harper ken lee long madison major marshall millie nick norman parker
    penny pearl porter sage shelby stone taylor tucker wade ward young august
    essex london paris florence sydney victoria chelsea ireland jersey israel georgia
    virginia carolina dakota trinity unique precious genesis harmony liberty justice
    """.split()
)


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
        raise ImportError(
            "the name lexicon needs the 'faker' package (pip install faker); it is a dependency in pyproject.toml"
        )
    clean = lambda names: frozenset(n for n in names if n.isalpha() and len(n) > 1)  # noqa: E731
    return clean(given), clean(family)
