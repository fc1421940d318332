"""The daily sample (定期检查): which of a day's ledger items an inspector looks at. Pure: no I/O, no clock.

The rule (docs/quality.md, "Daily sampling"):

- Per post, ``ceil(rate * items)`` items, the rate in per mille (50 = 5 %), in integer arithmetic:
  0 items → 0, 1 → 1, 20 → 1, 21 → 2, 1,000 → 50.
- The post's sample is spread over its people in proportion to each one's items (largest remainder:
  everyone gets the whole part of their share, the rest go one each to the largest fractions), never
  more than a person has. Equal fractions are ordered by the keyed hash of the person's id, so nobody
  can tell in advance who gets the extra one.
- Within a person, the items with the smallest HMAC-SHA256(day key, item id).

The day key is HMAC-SHA256(secret, "quality-sampling:" + day); the secret is held outside the
database (``HELPDESK_QUALITY_SAMPLING_SECRET``), so staff cannot predict the sample while an auditor
with the secret recomputes it (`helpdesk qa verify DAY` calls :func:`draw` on the ledger as the run
saw it and :func:`compare` on the two). A run records :func:`key_id`, never the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.quality.scorecards import Post

RATE_PER_MILLE = 50


@dataclass(frozen=True)
class WorkItem:
    """What the rule looks at of a ledger item: its id and whose work of which post it was."""

    item_id: str
    post: Post
    staff_id: str


@dataclass(frozen=True)
class Count:
    """One person's items and how many were drawn; staff_id empty: the whole post's."""

    post: Post
    staff_id: str
    items: int
    sampled: int


@dataclass(frozen=True)
class Draw:
    """A day's sample: the key's id, the rate, the population per post and person, the items drawn."""

    day: date
    key_id: str
    rate_per_mille: int
    population: tuple[Count, ...]  # per post (staff_id empty), then its people, posts in Post order
    item_ids: tuple[str, ...]  # sorted


def key_id(secret: bytes) -> str:
    """Names a secret without revealing it: an auditor picks the key with this id."""
    return hashlib.sha256(b"key-id:" + secret).hexdigest()[:16]


def day_key(secret: bytes, day: date) -> bytes:
    return hmac.new(secret, f"quality-sampling:{day.isoformat()}".encode(), hashlib.sha256).digest()


def sample_size(items: int, rate_per_mille: int = RATE_PER_MILLE) -> int:
    """``ceil(rate * items)`` without floating point: 20 items at 5 % → 1, 21 → 2."""
    return (items * rate_per_mille + 999) // 1000


def _keyed(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def shares(items_by_person: dict[str, int], size: int, key: bytes) -> dict[str, int]:
    """``size`` spread over people by largest remainder, proportional to their items, capped by them.

    Ties between equal remainders go to the smaller keyed hash of the person's id ("staff:" + id).
    """
    total = sum(items_by_person.values())
    if total == 0:
        return dict.fromkeys(items_by_person, 0)
    given = {person: size * items // total for person, items in items_by_person.items()}
    left = size - sum(given.values())
    fraction = {person: size * items % total for person, items in items_by_person.items()}
    eligible = [person for person, items in items_by_person.items() if given[person] < items]
    eligible.sort(key=lambda person: (-fraction[person], _keyed(key, f"staff:{person}")))
    for person in eligible[:left]:
        given[person] += 1
    return given


def _pick(item_ids: Sequence[str], count: int, key: bytes) -> list[str]:
    return sorted(item_ids, key=lambda item_id: _keyed(key, item_id))[:count]


def draw(
    items: Iterable[WorkItem], *, secret: bytes, day: date, rate_per_mille: int = RATE_PER_MILLE
) -> Draw:
    """The day's sample of ``items`` (the day's ledger up to the run's position) under ``secret``."""
    key = day_key(secret, day)
    by_post: dict[Post, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        by_post[item.post][item.staff_id].append(item.item_id)
    population: list[Count] = []
    chosen: list[str] = []
    for post in (p for p in Post if p in by_post):
        people = by_post[post]
        counts = {person: len(ids) for person, ids in sorted(people.items())}
        size = sample_size(sum(counts.values()), rate_per_mille)
        given = shares(counts, size, key)
        population.append(Count(post, "", sum(counts.values()), size))
        for person, count in counts.items():
            population.append(Count(post, person, count, given[person]))
            chosen.extend(_pick(people[person], given[person], key))
    return Draw(day, key_id(secret), rate_per_mille, tuple(population), tuple(sorted(chosen)))


@dataclass(frozen=True)
class Differences:
    """What a stored run and a recomputation disagree on; empty everywhere: MATCH."""

    key_id: tuple[str, str] | None = None  # (stored, recomputed) when the keys differ
    only_stored: tuple[str, ...] = ()  # in the run, not recomputed
    only_recomputed: tuple[str, ...] = ()  # recomputed, not in the run
    population: tuple[tuple[Count | None, Count | None], ...] = ()  # (stored, recomputed) that differ

    @property
    def match(self) -> bool:
        return not (self.key_id or self.only_stored or self.only_recomputed or self.population)


def compare(stored: Draw, recomputed: Draw) -> Differences:
    def by_person(draw: Draw) -> dict[tuple[Post, str], Count]:
        return {(count.post, count.staff_id): count for count in draw.population}

    stored_counts, recomputed_counts = by_person(stored), by_person(recomputed)
    people = sorted(
        stored_counts.keys() | recomputed_counts.keys(), key=lambda k: (list(Post).index(k[0]), k[1])
    )
    population = tuple(
        (stored_counts.get(person), recomputed_counts.get(person))
        for person in people
        if stored_counts.get(person) != recomputed_counts.get(person)
    )
    stored_ids, recomputed_ids = set(stored.item_ids), set(recomputed.item_ids)
    return Differences(
        key_id=None if stored.key_id == recomputed.key_id else (stored.key_id, recomputed.key_id),
        only_stored=tuple(sorted(stored_ids - recomputed_ids)),
        only_recomputed=tuple(sorted(recomputed_ids - stored_ids)),
        population=population,
    )
