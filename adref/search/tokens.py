"""How text becomes search terms, the same way for documents and queries.

BM25 counts whole terms, and neither DuckDB's fts tokeniser nor its stemmer splits Hangul:
"여름화장품광고" would be one term, and a search for "화장품" would never find it. Korean writes
compounds without spaces and attaches particles ("커피를", "커피가"), so word boundaries are no
guide. Each run of Hangul therefore becomes its overlapping character bigrams ("여름", "름화",
"화장", "장품", "품광", "광고"), and a run of one syllable stays itself. A query is cut the same
way and every one of its terms must occur (a conjunctive match), so "화장품" (화장 + 장품) finds
"여름화장품광고" and "아이스커피" is found by "커피", while BM25 ranks documents that use the terms
more, and in shorter text, first.

Other words (Latin letters, digits, other scripts) are lower-cased after NFKC normalisation and
stemmed with the Snowball English stemmer of DuckDB's fts extension (``stem(word, 'english')``),
so "running", "runs" and "run" are one term. Punctuation, quotes and control characters only
separate words; they never reach SQL as text (terms are bound parameters).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import duckdb

_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_RUNS = re.compile(rf"(?P<hangul>[{_HANGUL}]+)|(?P<word>[^\W_{_HANGUL}]+)")
MAX_WORD = 64  # longer "words" are noise (hashes, base64); cut so they cannot bloat the index
STEMMER = "english"


def words(text: str) -> list[tuple[str, bool]]:
    """The terms of ``text`` before stemming, each with whether it is a word to stem."""
    out: list[tuple[str, bool]] = []
    for m in _RUNS.finditer(unicodedata.normalize("NFKC", text).lower()):
        if run := m.group("hangul"):
            if len(run) == 1:
                out.append((run, False))
            else:
                out.extend((run[i : i + 2], False) for i in range(len(run) - 1))
        else:
            out.append((m.group("word")[:MAX_WORD], True))
    return out


def stems(con: duckdb.DuckDBPyConnection, vocabulary: Iterable[str]) -> dict[str, str]:
    """Each word's Snowball stem, from a connection with the fts extension loaded."""
    unique = sorted(set(vocabulary))
    if not unique:
        return {}
    rows = con.execute(
        f"SELECT w, stem(w, '{STEMMER}') FROM unnest($words) AS t(w)", {"words": unique}
    ).fetchall()
    return {w: s or w for w, s in rows}


def terms(pieces: Iterable[tuple[str, bool]], stemmed: Mapping[str, str]) -> list[str]:
    return [stemmed.get(p, p) if stem else p for p, stem in pieces]


def tokenise(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The terms of one text (a query): ``words`` with the stemmable ones stemmed."""
    pieces = words(text)
    return terms(pieces, stems(con, [p for p, stem in pieces if stem]))
