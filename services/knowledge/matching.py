"""Which entries match a query, and in what order: the index's words and the query's expression.

An entry is indexed as a ``tsvector`` literal of its words (:mod:`services.knowledge.segmentation`),
the title's weighted A and the rest B, so ``ts_rank`` puts an entry whose title holds the words first.
A query becomes a ``tsquery`` over the same words, in one of two modes:

- ``ALL`` (an agent's search): every term must be found. A Chinese term is found as itself or, when
  jieba cut it differently inside an entry's sentence, as all of its bigrams (光模块 → 光模 & 模块);
  a single character or a Latin word matches as a prefix (光 finds 光猫; onu finds onu123).
- ``ANY`` (the matches shown with a new report): the summary is a sentence, not keywords, so any
  term of two or more characters may match and the rank decides; single characters are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from services.knowledge.segmentation import CJK_RUN, Segmenter, bigrams

MAX_POSITION = 16383  # PostgreSQL's largest tsvector position


class Mode(Enum):
    ALL = "&"
    ANY = "|"


def index_literal(segmenter: Segmenter, *, title: str, rest: Sequence[str]) -> str:
    """The entry's words as a ``tsvector`` literal: title words weighted A, the others B."""
    weighted = [(w, "A") for w in segmenter.words(title)]
    weighted += [(w, "B") for text in rest for w in segmenter.words(text)]
    seen: dict[str, str] = {}
    for position, (word, weight) in enumerate(weighted, start=1):
        mark = f"{min(position, MAX_POSITION)}{weight}"
        seen[word] = f"{seen[word]},{mark}" if word in seen else mark
    return " ".join(f"{_quoted(word)}:{marks}" for word, marks in seen.items())


def query_literal(segmenter: Segmenter, text: str, mode: Mode) -> str | None:
    """The query as a ``tsquery`` literal, or None when it holds no term to look for."""
    terms = segmenter.query_terms(text)
    if mode is Mode.ANY:
        terms = [t for t in terms if len(t) > 1]
    if not terms:
        return None
    return f" {mode.value} ".join(_term(t) for t in terms)


def _term(term: str) -> str:
    if not CJK_RUN.fullmatch(term) or len(term) == 1:
        return f"{_quoted(term)}:*"
    if len(term) == 2:
        return _quoted(term)
    pieces = " & ".join(_quoted(b) for b in bigrams(term))
    return f"( {_quoted(term)} | ( {pieces} ) )"


def _quoted(word: str) -> str:
    """A lexeme as tsvector and tsquery input take it, quoted, so nothing in it is read as syntax."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
