"""Accent-folding multilingual full-text search over the archive (archive/search/).

- ``unaccent`` is a trusted extension (PostgreSQL 13+): the database owner that runs migrations
  may create it without being a superuser, as scripts/stack.sh sets the roles up.
- Four text search configurations fold accents before their dictionary: ``ch_simple`` (the
  word itself, lower-cased: exact words, prefixes, names, numbers, stop words) and ``ch_pt``,
  ``ch_es``, ``ch_en`` (Snowball stems).
- ``ch_search_vector(text)`` merges the four into ONE tsvector whose lexemes keep the word's own
  position: at each position sit the folded word and its three stems. Why one and not one per
  language: every configuration uses the same parser, so positions agree and a phrase or a
  w/N can mix a Portuguese stem with an English one; one column and one GIN index, and a query
  is one index scan instead of an OR over four. Measured on 20,000 generated chat messages
  (bench/archive_search.py): the merged vectors take 4.7 MB, one vector per configuration 11.1 MB
  (2.4x), 'simple' alone 3.2 MB; building costs the same (four parses either way). ``tsvector || tsvector``
  cannot do this: it shifts the right-hand positions past the left ones, so a phrase could match
  across the seam. Stemming never hides a word from another language: the folded word is always
  there too.
- Stored generated columns (computed at INSERT, so the append-only records are never updated):
  the message text, the text of every edit (each version of an edited message stays
  searchable), and attachment file names with ``._-`` read as spaces. They are not model fields
  on purpose: Django would read every tsvector back with every message it loads.
"""

from django.db import migrations

CONFIGURATIONS = [
    ("ch_simple", "simple", "simple"),
    ("ch_pt", "portuguese", "portuguese_stem"),
    ("ch_es", "spanish", "spanish_stem"),
    ("ch_en", "english", "english_stem"),
]

FORWARD = ["CREATE EXTENSION IF NOT EXISTS unaccent"]
for name, source, dictionary in CONFIGURATIONS:
    FORWARD += [
        f"CREATE TEXT SEARCH CONFIGURATION public.{name} (COPY = pg_catalog.{source})",
        # Only these token types can hold accents; the ascii ones need no folding.
        f"ALTER TEXT SEARCH CONFIGURATION public.{name} ALTER MAPPING FOR hword, hword_part, "
        f"word WITH public.unaccent, pg_catalog.{dictionary}",
    ]

# The text form of a tsvector is valid tsvector input (lexemes quoted as needed), and reading
# it back merges a lexeme's positions: so the four vectors' texts, joined, are the merged vector.
# Measured: 145 us per chat message, against 275 us for unnest + string_agg of the lexemes.
FORWARD.append(
    """
CREATE FUNCTION public.ch_search_vector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (to_tsvector('public.ch_simple'::regconfig, body)::text
        || ' ' || to_tsvector('public.ch_pt'::regconfig, body)::text
        || ' ' || to_tsvector('public.ch_es'::regconfig, body)::text
        || ' ' || to_tsvector('public.ch_en'::regconfig, body)::text)::tsvector
$$
"""
)
FORWARD += [
    "ALTER TABLE archive_message ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (public.ch_search_vector(text)) STORED",
    "CREATE INDEX message_search ON archive_message USING gin (search_vector)",
    "ALTER TABLE archive_messageevent ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (public.ch_search_vector(CASE WHEN kind = 'edit' "
    "THEN payload -> 'message' ->> 'text' END)) STORED",
    "CREATE INDEX message_event_search ON archive_messageevent USING gin (search_vector) "
    "WHERE kind = 'edit'",
    "ALTER TABLE archive_attachment ADD COLUMN filename_vector tsvector "
    "GENERATED ALWAYS AS (public.ch_search_vector("
    "regexp_replace(filename, '[._-]+', ' ', 'g'))) STORED",
]

BACKWARD = [
    "ALTER TABLE archive_attachment DROP COLUMN filename_vector",
    "DROP INDEX message_event_search",
    "ALTER TABLE archive_messageevent DROP COLUMN search_vector",
    "DROP INDEX message_search",
    "ALTER TABLE archive_message DROP COLUMN search_vector",
    "DROP FUNCTION public.ch_search_vector(text)",
    *[f"DROP TEXT SEARCH CONFIGURATION public.{name}" for name, _, _ in CONFIGURATIONS],
    # The extension stays: another database object may use it by then.
]


class Migration(migrations.Migration):
    dependencies = [("archive", "0005_log_key_rotation")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
