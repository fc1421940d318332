"""The daily sampling rule (services/quality/sampling.py): sizes, fairness over a post's people, the keyed
choice (the same key and day draw the same sample, another key another), and verify's comparison."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.quality.sampling import Count, WorkItem, compare, draw, key_id, sample_size, shares
from services.quality.scorecards import Post

SECRET = b"s" * 32
DAY = date(2025, 3, 1)


def workload(post: Post, **items_by_person: int) -> list[WorkItem]:
    return [
        WorkItem(f"{person}/{n}", post, person)
        for person, count in items_by_person.items()
        for n in range(count)
    ]


@pytest.mark.parametrize(("items", "size"), [(0, 0), (1, 1), (19, 1), (20, 1), (21, 2), (1000, 50)])
def test_a_post_samples_the_ceiling_of_five_percent(items: int, size: int) -> None:
    assert sample_size(items) == size
    drawn = draw(workload(Post.AGENT, a=items), secret=SECRET, day=DAY)
    assert len(drawn.item_ids) == size


def test_each_post_is_sampled_on_its_own() -> None:
    items = workload(Post.AGENT, a=21) + workload(Post.SURVEYOR, s=1)
    drawn = draw(items, secret=SECRET, day=DAY)
    posts = {count.post: count for count in drawn.population if not count.staff_id}
    assert (posts[Post.AGENT].items, posts[Post.AGENT].sampled) == (21, 2)
    assert (posts[Post.SURVEYOR].items, posts[Post.SURVEYOR].sampled) == (1, 1)


def test_the_sample_is_shared_in_proportion_to_each_persons_items() -> None:
    drawn = draw(workload(Post.AGENT, a=100, b=60, c=40), secret=SECRET, day=DAY)
    sampled = {count.staff_id: count.sampled for count in drawn.population if count.staff_id}
    assert sampled == {"a": 5, "b": 3, "c": 2}
    assert sorted(i.split("/")[0] for i in drawn.item_ids) == ["a"] * 5 + ["b"] * 3 + ["c"] * 2


def test_equal_workloads_get_equal_shares() -> None:
    assert shares({"a": 100, "b": 100, "c": 100, "d": 100}, 20, b"k") == {"a": 5, "b": 5, "c": 5, "d": 5}
    uneven = shares({"a": 10, "b": 10, "c": 10, "d": 10}, 2, b"k")  # 0.5 each: two of them get one
    assert sorted(uneven.values()) == [0, 0, 1, 1]


def test_who_gets_the_extra_one_depends_on_the_key_not_on_the_name() -> None:
    people = {f"agent-{n}": 10 for n in range(8)}  # 4 items over 8 people: half of them get one
    winners = {frozenset(p for p, n in shares(people, 4, bytes([k])).items() if n) for k in range(20)}
    assert len(winners) > 1


def test_nobody_is_given_more_than_their_items() -> None:
    for counts in ({"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 39}, {"a": 2, "b": 1, "c": 997}, {"a": 5}):
        for size in range(sum(counts.values()) + 1):
            given = shares(counts, size, b"k")
            assert sum(given.values()) == size
            assert all(given[p] <= counts[p] for p in counts)


def test_one_item_each_for_many_people_still_draws_the_posts_size() -> None:
    drawn = draw(workload(Post.AGENT, **{f"p{n}": 1 for n in range(30)}), secret=SECRET, day=DAY)
    assert len(drawn.item_ids) == 2  # ceil(5 % * 30), two people of thirty


def test_the_same_key_and_day_draw_the_same_sample_whatever_the_order() -> None:
    items = workload(Post.AGENT, a=50, b=30) + workload(Post.SENIOR_AGENT, c=45)
    first = draw(items, secret=SECRET, day=DAY)
    assert draw(list(reversed(items)), secret=SECRET, day=DAY) == first


def test_another_key_or_another_day_draws_another_sample() -> None:
    items = workload(Post.AGENT, a=400)
    first = draw(items, secret=SECRET, day=DAY)
    other_key = draw(items, secret=b"t" * 32, day=DAY)
    other_day = draw(items, secret=SECRET, day=date(2025, 3, 2))
    assert other_key.item_ids != first.item_ids and other_key.key_id != first.key_id
    assert other_day.item_ids != first.item_ids and other_day.key_id == first.key_id


def test_the_key_id_names_the_key_without_revealing_it() -> None:
    assert key_id(SECRET) == key_id(SECRET) != key_id(b"t" * 32)
    assert len(key_id(SECRET)) == 16 and SECRET.hex()[:16] not in key_id(SECRET)


def test_a_recomputation_of_the_same_ledger_matches() -> None:
    items = workload(Post.AGENT, a=50, b=30)
    assert compare(draw(items, secret=SECRET, day=DAY), draw(items, secret=SECRET, day=DAY)).match


def test_a_changed_sample_is_listed_both_ways() -> None:
    items = workload(Post.AGENT, a=50, b=30)
    recomputed = draw(items, secret=SECRET, day=DAY)
    swapped = next(i.item_id for i in items if i.item_id not in recomputed.item_ids)
    stored = replace(recomputed, item_ids=tuple(sorted((*recomputed.item_ids[1:], swapped))))
    differences = compare(stored, recomputed)
    assert not differences.match
    assert differences.only_stored == (swapped,)
    assert differences.only_recomputed == (recomputed.item_ids[0],)
    assert differences.population == ()


def test_differing_populations_and_keys_are_listed() -> None:
    recomputed = draw(workload(Post.AGENT, a=50), secret=SECRET, day=DAY)
    stored = draw(workload(Post.AGENT, a=49), secret=b"t" * 32, day=DAY)
    differences = compare(stored, recomputed)
    assert differences.key_id == (key_id(b"t" * 32), key_id(SECRET))
    assert (Count(Post.AGENT, "a", 49, 3), Count(Post.AGENT, "a", 50, 3)) in differences.population
