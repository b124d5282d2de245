"""icvac.ids: repeated ids found in file order, whichever way the ids are kept."""
import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac.ids import IdIndex, NotedIds, WorkerIds, late_positions


def _reference(blocks):
    """The positions of repeated ids in each block, with a set."""
    seen, found = set(), []
    for ids in blocks:
        here = []
        for n, value in enumerate(ids):
            if value in seen:
                here.append(n)
            seen.add(value)
        found.append(here)
    return found


def _index(min_lookups=IdIndex.MIN_LOOKUPS, text_limit=IdIndex.TEXT_LIMIT):
    index = IdIndex()
    index.MIN_LOOKUPS, index.TEXT_LIMIT = min_lookups, text_limit
    return index


def _cut(ids, sizes):
    blocks, start = [], 0
    for size in sizes:
        blocks.append(ids[start:start + size])
        start += size
    blocks.append(ids[start:])
    return blocks


def _ordered_with_repeats(rnd, n, share, width=8):
    ids = []
    for k in range(n):
        ids.append(rnd.choice(ids) if ids and rnd.random() < share else f"C-{k:0{width}d}")
    return ids


_ids = st.text(alphabet="ab1\n é", min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(_ids, max_size=300), sizes=st.lists(st.integers(0, 60), max_size=8),
       min_lookups=st.sampled_from([0, 3, 4096]), text_limit=st.sampled_from([200, 1 << 20]),
       prepared=st.booleans())
def test_the_same_repeats_as_a_set(ids, sizes, min_lookups, text_limit, prepared):
    blocks, index, workers = _cut(ids, sizes), _index(min_lookups, text_limit), [WorkerIds(), WorkerIds()]
    found = []
    for k, block in enumerate(blocks):
        if not prepared:
            found.append(index.add(block))
            continue
        noted = NotedIds()
        noted.note(range(len(block)), block)
        workers[k % 2].prepare(noted)  # as two workers taking every other block
        found.append(index.add_noted(pickle.loads(pickle.dumps(noted))))
    assert found == _reference(blocks)


@pytest.mark.parametrize("share", [0, 0.0005, 0.02])
def test_ids_in_order_are_kept_as_text_with_few_look_ups(share):
    rnd = random.Random(7)
    ids = _ordered_with_repeats(rnd, 60_000, share)
    blocks = _cut(ids, [1000] * 59)
    index = IdIndex()
    assert [index.add(block) for block in blocks] == _reference(blocks)
    assert not index.by_digest  # 2% out of order is under one in LOOKUP_SHARE
    assert index.looked_up == sum(map(len, _reference(blocks)))  # only the repeats were looked up


def test_ids_out_of_order_go_to_digests():
    rnd = random.Random(8)
    ids = _ordered_with_repeats(rnd, 20_000, 0.001)
    rnd.shuffle(ids)
    blocks = _cut(ids, [500] * 39)
    index = IdIndex()
    assert [index.add(block) for block in blocks] == _reference(blocks)
    assert index.by_digest


def test_ids_over_the_text_limit_go_to_digests():
    ids = [f"case-{k:06d}" for k in range(5000)] + ["case-000042"]
    blocks = _cut(ids, [1000] * 5)
    index = _index(text_limit=30_000)
    assert [index.add(block) for block in blocks] == _reference(blocks)
    assert index.by_digest


@pytest.mark.parametrize("width", [None, 6])
def test_a_repeat_is_found_in_a_run_of_any_earlier_block(width):
    rnd = random.Random(9)
    ids = [f"{k:06d}" if width else str(k) for k in range(3000)]  # str(k): ids of several lengths
    later = rnd.sample(ids, 50)
    blocks = _cut(ids + [str(k) + "x" for k in range(3000, 3100)] + later, [700, 700, 700, 900, 100])
    index = IdIndex()
    assert [index.add(block) for block in blocks] == _reference(blocks)
    assert not index.by_digest


@given(st.lists(st.text(max_size=3), max_size=40))
def test_late_positions(ids):
    assert late_positions(ids) == [n for n in range(1, len(ids)) if ids[n] <= max(ids[:n])]


def test_ids_travel_from_a_worker_whole():
    ids = ["A-1", "B\n2", "C 3", "é4"]
    for sent in (ids, ids[:1] + ids[2:], []):
        noted = NotedIds()
        noted.note(range(1, len(sent) + 1), list(sent))
        WorkerIds().prepare(noted)
        received = pickle.loads(pickle.dumps(noted))
        assert received.values() == sent
        assert list(received.rows) == list(range(1, len(sent) + 1))
        assert (received.late, received.digests) == (noted.late, noted.digests)
