"""icvac.ids: repeated ids found in file order, whichever way the ids are kept."""
import pickle
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icvac.ids import IdIndex, NotedIds, WorkerIds, late_positions


def _reference(blocks, first=None):
    """The positions of repeated ids in each block, with a set (and in ``first``, if given, the rows they were
    first seen at, the ids numbered from 1 across the blocks)."""
    seen, found, row = {}, [], 0
    for ids in blocks:
        here, earlier = [], []
        for n, value in enumerate(ids):
            row += 1
            if value in seen:
                here.append(n)
                earlier.append(seen[value])
            else:
                seen[value] = row
        found.append(here)
        if first is not None:
            first.append(earlier)
    return found


def _index(min_lookups=IdIndex.MIN_LOOKUPS, text_limit=IdIndex.TEXT_LIMIT, run_size=IdIndex.RUN_SIZE):
    index = IdIndex()
    index.MIN_LOOKUPS, index.TEXT_LIMIT, index.RUN_SIZE = min_lookups, text_limit, run_size
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
       min_lookups=st.sampled_from([0, 3, 4096]), text_limit=st.sampled_from([0, 200, 1 << 20]),
       run_size=st.sampled_from([1, 3, 16, 4096]), prepared=st.booleans())
def test_the_same_repeats_as_a_set(ids, sizes, min_lookups, text_limit, run_size, prepared):
    blocks, workers = _cut(ids, sizes), [WorkerIds(), WorkerIds()]
    index = _index(min_lookups, text_limit, run_size)
    found, earlier, before = [], [], 0
    for k, block in enumerate(blocks):
        if not prepared:
            found.append(index.add(block))
        else:
            noted = NotedIds()
            noted.note(range(1, len(block) + 1), block)
            workers[k % 2].prepare(noted)  # as two workers taking every other block
            found.append(index.add_noted(pickle.loads(pickle.dumps(noted)), before))
        earlier.append(index.earlier)
        before += len(block)
    first = []
    assert found == _reference(blocks, first)
    assert earlier == first  # the row each repeat was first seen at, whichever way the ids were kept


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
    index = _index(text_limit=10_000)  # the first run (4096 ids of 4 characters after "case-00") is past it
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


def _weak_digests(ids):
    """Digests of 10 bits: two ids share one often, so that where ids are compared by digest shows."""
    import hashlib
    from array import array

    return array("Q", (hashlib.blake2s(i.encode("utf-8", "surrogatepass")).digest()[0] * 4 + len(i) % 4
                       for i in ids)).tobytes()


@st.composite
def _mostly_in_order(draw):
    ids = [f"{n:04d}" for n in range(draw(st.integers(0, 400)))]
    for n in draw(st.lists(st.integers(1, 399), max_size=40)):
        if n < len(ids):
            ids[n] = ids[draw(st.integers(0, n - 1))]  # a repeat, out of order
    return ids


def _run_blocks(blocks, prepared, min_lookups, text_limit, run_size):
    index, workers, found, before = _index(min_lookups, text_limit, run_size), [WorkerIds(), WorkerIds()], [], 0
    index.LOOKUP_SHARE = 8
    for k, block in enumerate(blocks):
        if prepared:
            noted = NotedIds()
            noted.note(range(len(block)), block)
            workers[k % 2].prepare(noted)
            here = index.add_noted(pickle.loads(pickle.dumps(noted)))
        else:
            here = index.add(block)
        found += [before + n for n in here]
        before += len(block)
    return found, index.switched_at


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.text(alphabet="ab1é", min_size=1, max_size=3), max_size=300) | _mostly_in_order(),
       cuts=st.lists(st.lists(st.integers(0, 40), max_size=10), min_size=2, max_size=2),
       min_lookups=st.sampled_from([0, 2, 4096]), text_limit=st.sampled_from([0, 150, 300, 1 << 20]),
       run_size=st.sampled_from([1, 5, 32]), prepared=st.lists(st.booleans(), min_size=2, max_size=2))
def test_the_same_ids_are_compared_by_digest_however_the_file_is_cut(monkeypatch, ids, cuts, min_lookups,
                                                                    text_limit, run_size, prepared):
    # with digests that collide often, a repeat found by digest but not by text (or the reverse) would show;
    # the same patch for every example
    monkeypatch.setattr("icvac.ids.id_digests", _weak_digests)
    one = _run_blocks(_cut(ids, cuts[0]), prepared[0], min_lookups, text_limit, run_size)
    other = _run_blocks(_cut(ids, cuts[1]), prepared[1], min_lookups, text_limit, run_size)
    assert one == other


@given(st.lists(st.text(alphabet="ab1é\n", max_size=5), min_size=1, max_size=50))
def test_a_run_holds_its_ids(ids):
    from icvac.ids import _Run

    ids = sorted(set(ids))
    run = _Run.of(ids)
    assert run.values() == ids
    assert all(i in run for i in ids)
    assert not any(i + "a" in run for i in ids if i + "a" not in ids)


def test_ids_in_order_keep_only_what_follows_their_shared_prefix():
    from icvac.ids import _Run

    run = _Run.of([f"INC-{n:08d}" for n in range(120_000, 124_096)])
    assert (run.prefix, run.ends, len(run.text)) == ("INC-0012", 4, 4 * 4096)


@pytest.mark.parametrize("sizes", [[4], [3], [5], [1, 1, 1, 1], [2, 6]])
def test_digests_take_over_after_the_run_past_the_limit_wherever_the_block_ends(sizes):
    ids = [f"{n:04d}" for n in range(20)]
    index = _index(text_limit=0, run_size=4)
    for block in _cut(ids, sizes):
        index.add(block)
    assert index.switched_at == 4
