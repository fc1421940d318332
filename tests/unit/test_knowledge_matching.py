"""How the knowledge base cuts Chinese text into words, and the index and queries it makes of them."""

from __future__ import annotations

import pytest

from services.knowledge.matching import Mode, _quoted, index_literal, query_literal
from services.knowledge.segmentation import Segmenter, bigrams


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


def test_a_word_inside_a_sentence_is_one_of_its_words(segmenter: Segmenter) -> None:
    words = segmenter.words("更换光模块后恢复")
    assert "光模块" in words  # the desk's vocabulary keeps it whole
    assert {"更换", "恢复"} <= set(words)
    assert {"光模", "模块", "换光"} <= set(words)  # and every CJK bigram, whatever jieba made of it


def test_latin_words_and_numbers_are_kept_in_lower_case_without_punctuation(segmenter: Segmenter) -> None:
    words = segmenter.words("拨号提示错误691\uff0cOLT板卡\uff01")  # fullwidth comma and exclamation mark
    assert {"691", "olt", "板卡", "错误"} <= set(words)
    assert not {"\uff0c", "\uff01", ""} & set(words)


def test_bigrams_of_each_cjk_run_and_a_lone_character_as_itself() -> None:
    assert bigrams("光模块 a 锁") == ["光模", "模块", "锁"]
    assert bigrams("abc 123") == []


def test_a_chinese_term_matches_as_itself_or_as_all_its_bigrams(segmenter: Segmenter) -> None:
    assert query_literal(segmenter, "光模块", Mode.ALL) == "( '光模块' | ( '光模' & '模块' ) )"


def test_every_term_is_required_in_a_search_and_any_in_a_summary(segmenter: Segmenter) -> None:
    assert query_literal(segmenter, "光猫红灯", Mode.ALL) == "'光猫' & '红灯'"
    assert query_literal(segmenter, "光猫红灯", Mode.ANY) == "'光猫' | '红灯'"


def test_single_characters_and_latin_words_match_as_prefixes_and_summaries_skip_single_characters(
    segmenter: Segmenter,
) -> None:
    assert query_literal(segmenter, "锁 LOID", Mode.ALL) == "'锁':* & 'loid':*"
    assert query_literal(segmenter, "锁 LOID", Mode.ANY) == "'loid':*"


def test_function_words_and_punctuation_are_not_looked_for(segmenter: Segmenter) -> None:
    assert query_literal(segmenter, "的了\uff0c\u3002\uff01", Mode.ALL) is None
    assert query_literal(segmenter, "光猫的红灯", Mode.ALL) == "'光猫' & '红灯'"


def test_the_index_weighs_the_title_above_the_rest(segmenter: Segmenter) -> None:
    literal = index_literal(segmenter, title="光猫", rest=["重启光猫"])
    assert literal.startswith("'光猫':1A,3B ")  # the title's word weighted A, and where the body has it, B
    assert "'重启':2B" in literal


def test_nothing_in_a_lexeme_is_read_as_query_syntax() -> None:
    assert _quoted("it's") == "'it''s'"
    assert _quoted("a\\b") == "'a\\\\b'"
