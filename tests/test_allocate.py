"""Label numbers and status positions: blocks per process, batch reservations, no duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, select

from issuer import allocate
from issuer.allocate import Allocator
from issuer.store import migrate
from issuer.store.tables import issuer_orgs, label_counters, label_reservations
from ledger.store.engine import make_engine

YEAR = 2026


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(issuer_orgs).values(
                id=1, slug="acme", name="Acme", uscc="91440101MA59UQXX0B", did="did:web:x",
                key_name="acme", credential_types="[]", product_categories="[]",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
    yield engine
    engine.dispose()


def counter(engine: Engine, code: str) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(label_counters.c.next_sequence).where(
                label_counters.c.year == YEAR, label_counters.c.category_code == code
            )
        ).scalar_one_or_none()
    return None if value is None else int(value)


def test_label_numbers_come_from_blocks_of_the_process(engine: Engine) -> None:
    allocator = Allocator(engine, block=4)
    assert [allocator.label_sequence(YEAR, "AC") for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    assert counter(engine, "AC") == 9  # two blocks of 4 reserved, two numbers left
    assert [allocator.label_sequence(YEAR, "LB") for _ in range(2)] == [1, 2]


def test_a_batch_reservation_takes_what_is_missing_in_one_transaction(engine: Engine) -> None:
    allocator = Allocator(engine, block=4)
    assert allocator.label_sequence(YEAR, "AC", 1) == 1  # 2..4 left in the block
    allocator.reserve(YEAR, {"AC": 10, "LB": 3}, 1, "acme", 13)
    assert counter(engine, "AC") == 12  # 3 held, 7 more reserved: 5..11
    assert counter(engine, "LB") == 4
    numbers = [allocator.label_sequence(YEAR, "AC", 1) for _ in range(10)]
    assert numbers == list(range(2, 12))
    assert counter(engine, "AC") == 12  # the batch reserved nothing more
    assert [allocator.label_sequence(YEAR, "LB", 1) for _ in range(3)] == [1, 2, 3]
    positions = [allocator.status(1, "acme") for _ in range(13)]
    assert [p.index for p, _ in positions] == list(range(13))
    assert [opened for _, opened in positions] == [True] + [False] * 12
    # Nothing was reserved for the batch beyond its 13 positions.
    assert Allocator(engine).status(1, "acme")[0].index == 13


def test_two_processes_never_share_a_number(engine: Engine) -> None:
    first, second = Allocator(engine, block=3), Allocator(engine, block=5)
    taken: list[int] = []
    for round_ in range(6):
        first.reserve(YEAR, {"AC": round_ + 1}, 1, "acme", round_ + 1)
        taken += [first.label_sequence(YEAR, "AC", 1) for _ in range(round_ + 1)]
        taken += [second.label_sequence(YEAR, "AC") for _ in range(2)]
    assert len(taken) == len(set(taken))
    positions = [first.status(1, "acme")[0] for _ in range(7)]
    positions += [second.status(1, "acme")[0] for _ in range(7)]
    assert len({(p.revocation_list, p.index) for p in positions}) == 14


def test_a_reservation_across_full_lists_opens_each_new_list_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allocate, "STATUS_LIST_CAPACITY", 5)
    allocator = Allocator(engine, block=64)
    allocator.reserve(YEAR, {}, 1, "acme", 12)
    handed = [allocator.status(1, "acme") for _ in range(12)]
    assert [(p.revocation_list, p.index, opened) for p, opened in handed] == [
        (f"acme-revocation-{n}", i, i == 0)
        for n, size in ((1, 5), (2, 5), (3, 2))
        for i in range(size)
    ]
    assert {p.suspension_list for p, _ in handed} == {f"acme-suspension-{n}" for n in (1, 2, 3)}


def reservations(engine: Engine) -> list[tuple[int, int, bool, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(label_reservations).order_by(label_reservations.c.first_sequence)
        ).all()
    return [
        (r.first_sequence, r.last_sequence, r.returned_at is not None, r.unused_from) for r in rows
    ]


def test_a_closing_process_gives_its_unused_tail_back(engine: Engine) -> None:
    first = Allocator(engine, block=64)
    assert [first.label_sequence(YEAR, "AC", 1) for _ in range(2)] == [1, 2]
    first.close()
    assert counter(engine, "AC") == 3  # 3..64 went back: the next process goes on at 3
    assert reservations(engine) == [(1, 2, True, None)]
    second = Allocator(engine, block=64)
    assert second.label_sequence(YEAR, "AC", 1) == 3
    second.close()
    assert counter(engine, "AC") == 4
    unused = Allocator(engine, block=64)
    unused.reserve(YEAR, {"AC": 5}, 1, "acme", 0)
    unused.close()  # nothing handed out: the reservation disappears
    assert counter(engine, "AC") == 4
    assert [r[:2] for r in reservations(engine)] == [(1, 2), (3, 3)]


def test_a_range_others_reserved_after_is_returned_and_listed(engine: Engine) -> None:
    early, late = Allocator(engine, block=10), Allocator(engine, block=10)
    assert early.label_sequence(YEAR, "AC", 1) == 1
    assert late.label_sequence(YEAR, "AC", 1) == 11
    early.close()  # 2..10 cannot go back: 11..20 are held by the later process
    assert counter(engine, "AC") == 21
    assert reservations(engine)[0] == (1, 10, True, 2)
    skipped = allocate.skipped_numbers(engine, YEAR, None)
    # Nothing is logged: 1 was handed out and not logged, 2..10 returned, 11..20 still held.
    assert [(s.first, s.last, s.reason, s.issuer) for s in skipped] == [
        (1, 1, "not-logged", "acme"),
        (2, 10, "returned-unused", "acme"),
        (11, 20, "not-returned", "acme"),
    ]
    late.close()
    assert counter(engine, "AC") == 12
    assert [(s.first, s.last, s.reason) for s in allocate.skipped_numbers(engine, YEAR, "acme")][
        -1
    ] == (11, 11, "not-logged")


def test_numbers_no_reservation_covers_are_listed_without_an_issuer(engine: Engine) -> None:
    allocate.next_label_sequence(engine, YEAR, "LB", 3)
    with engine.begin() as conn:  # as a store from before reservations were recorded
        conn.execute(label_reservations.delete())
    skipped = allocate.skipped_numbers(engine, None, None)
    assert [(s.category_code, s.first, s.last, s.reason, s.issuer) for s in skipped] == [
        ("LB", 1, 3, "unrecorded", None)
    ]
    assert allocate.skipped_numbers(engine, None, "acme") == []
    with pytest.raises(LookupError):
        allocate.skipped_numbers(engine, None, "nobody")
