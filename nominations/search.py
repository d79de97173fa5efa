"""Searching the knowledge hub in five languages, on PostgreSQL and elsewhere.

Each practice keeps two search copies of all its versions (the original and every
translation), rebuilt whenever its public text or a translation is saved:

- ``search_text``: the words in lowercase without accents. Every word typed must occur
  in it, so ``darbnica`` and ``DARBNĪCA`` find „Ciema darbnīca” on any database.
- ``search_vector`` (PostgreSQL only): each version stemmed by its own language's
  dictionary — english, french, spanish, swedish; ``simple`` for Latvian and the rest —
  after ``unaccent``, the title weighted above the rest. It adds stems ("mentors" finds
  "mentoring") and a rank.
"""

import unicodedata
from functools import reduce
from operator import add, or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Func, Q, Value

#: PostgreSQL text-search dictionaries by language; any other language uses ``simple``.
SEARCH_CONFIGS = {
    "en": "english",
    "fr": "french",
    "es": "spanish",
    "sv": "swedish",
    "ca": "catalan",
    "eu": "basque",
}


def search_config(language):
    return SEARCH_CONFIGS.get(language, "simple")


def unaccented(text):
    """``text`` in lowercase without accents: "Ciema Darbnīca" → "ciema darbnica"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_text_for(versions):
    """The ``search_text`` of a practice whose versions are ``versions`` (PracticeText-like)."""
    return "\n".join(
        unaccented(part) for v in versions for part in (v.title, v.summary, v.results) if part
    )


class Unaccent(Func):
    function = "unaccent"


def search_vector_for(versions):
    """The ``search_vector`` expression (PostgreSQL) of a practice's versions."""
    return reduce(
        add,
        [
            SearchVector(Unaccent(Value(v.title)), config=search_config(v.language), weight="A")
            + SearchVector(
                Unaccent(Value(f"{v.summary}\n{v.results}")),
                config=search_config(v.language),
                weight="B",
            )
            for v in versions
        ],
    )


def uses_full_text_search():
    return connection.vendor == "postgresql"


def practices_matching_unaccented(practices, words):
    """``practices`` whose ``search_text`` holds every one of ``words``; any database.

    Case and accents are ignored; no stemming and no rank.
    """
    for word in unaccented(words).split():
        practices = practices.filter(search_text__contains=word)
    return practices


def practices_matching_full_text(practices, words):
    """``practices`` matching ``words`` on PostgreSQL, best first.

    A practice matches when the words match its stemmed versions in any language's
    dictionary, or all occur in its ``search_text`` (so a word's beginning, such as
    "darbn", still finds it); the rank weighs title matches above the rest.
    """
    query = reduce(
        or_,
        [
            SearchQuery(Unaccent(Value(words)), config=config, search_type="plain")
            for config in sorted({*SEARCH_CONFIGS.values(), "simple"})
        ],
    )
    contained = Q()
    for word in unaccented(words).split():
        contained &= Q(search_text__contains=word)
    return (
        practices.filter(Q(search_vector=query) | contained)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by(F("rank").desc(nulls_last=True), "-first_published_at", "-pk")
    )


def practices_matching(practices, words):
    """``practices`` matching the words typed, with the best available search."""
    if not words.strip():
        return practices
    if uses_full_text_search():
        return practices_matching_full_text(practices, words)
    return practices_matching_unaccented(practices, words)
