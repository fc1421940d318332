"""Words of Chinese (and mixed) text, for the knowledge base's full-text index and its queries.

Chinese writes no spaces between words, and on this desk's PostgreSQL neither ``pg_trgm`` nor the
text-search parsers find words inside a Chinese sentence: the cluster's ctype is C, so ``show_trgm``
of "更换光模块后恢复" is empty and ``to_tsvector`` keeps the whole sentence as one lexeme
(docs/performance.md, "Knowledge search"). So the words are found here, by jieba's dictionary
segmentation (search mode: a long word also yields the shorter words inside it), and every run of
CJK characters also gives its overlapping two-character pieces (bigrams). The words rank well; the
bigrams find a word jieba cut differently in a sentence than on its own. The index stores both as
lexemes as they are (``array_to_tsvector``): PostgreSQL parses nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import jieba  # type: ignore[import-untyped]  # the package ships no type information

WORD = re.compile(r"\w+")
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

DESK_WORDS = (
    "光模块", "光猫", "光纤", "光缆", "交换机", "路由器", "机顶盒", "宽带", "拨号", "掉线", "丢包",
    "误码", "割接", "机房", "空调", "配线架", "分光器", "测量台", "查修员", "局向", "故障电话",
    "红灯", "闪烁", "重启", "复位", "鉴权", "账号", "欠费", "停机", "杂音", "串线", "无信号",
)  # fmt: skip
"""The desk's own vocabulary, so jieba keeps these whole (it cuts 光模块 into 光 and 模块)."""

STOP_WORDS = frozenset((
    "的", "了", "是", "在", "和", "与", "及", "或", "后", "也", "都", "就",
    "而", "被", "把", "将", "对", "从", "向", "到", "有", "无法", "一个", "一直",
    "我", "你", "他", "她", "它", "我们", "请", "吗", "呢", "啊",
))  # fmt: skip
"""Function words that say nothing of a fault: left out of queries (entries keep them)."""


class Segmenter:
    """Cuts text into the words the index holds. Built once per process: jieba loads its dictionary
    (about a second) on first use, or when :meth:`warm` is called."""

    def __init__(self) -> None:
        jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at DEBUG and INFO
        self._tokenizer = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._ready = False

    def warm(self) -> None:
        """Load the dictionary and the desk's words now (a composition root does, in a thread)."""
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                for word in DESK_WORDS:
                    self._tokenizer.add_word(word)  # the first one loads the dictionary
                self._ready = True

    def words(self, text: str) -> list[str]:
        """Distinct lower-case words of ``text``, in order: jieba's (search mode) and CJK bigrams."""
        found = [w.lower() for piece in self._cut_for_search(text) for w in WORD.findall(piece)]
        return _distinct([*found, *bigrams(text)])

    def query_terms(self, text: str) -> list[str]:
        """The words a query asks for: jieba's precise cut, without punctuation and function words."""
        terms = [w.lower() for piece in self._cut(text) for w in WORD.findall(piece)]
        return _distinct(t for t in terms if t not in STOP_WORDS)

    def _cut(self, text: str) -> list[str]:
        self.warm()
        return list(self._tokenizer.cut(text))

    def _cut_for_search(self, text: str) -> list[str]:
        self.warm()
        return list(self._tokenizer.cut_for_search(text))


def bigrams(text: str) -> list[str]:
    """Each run of CJK characters as its overlapping two-character pieces (a lone character as itself)."""
    pieces: list[str] = []
    for run in CJK_RUN.findall(text):
        pieces += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return pieces


def _distinct(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(w for w in words if w))
