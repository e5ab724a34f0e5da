"""Unit tests of the runtime's allocation guards (runtime/guards.py), on real values, without a script.

Why here as well as in the script-level tests: a guard that lets one shape through is found faster
when the guard itself is called with that shape, and the message it raises is what a script author
reads, so it is checked too.
"""

from __future__ import annotations

import itertools

import pytest

from kitgate.sandbox.runtime.bounds import MAX_INT_BITS, LimitExceeded
from kitgate.sandbox.runtime.guards import (
    Allocation,
    SandboxDenied,
    bounded_items,
    check_codec,
    guarded_round,
    make_range,
    make_sized,
)

MB = 64  # the smallest budget Allocation accepts still allows 1,000,000 items per operation


def test_sequence_repetition_is_refused_before_it_is_built() -> None:
    alloc = Allocation(MB)
    assert alloc.mul([0], 3) == [0, 0, 0]
    assert alloc.mul(2, "ab") == "abab"
    with pytest.raises(LimitExceeded) as exc:
        alloc.mul("x" * 10, alloc.max_items)
    assert exc.value.limit == "memory"
    assert "sequence repetition" in exc.value.message and str(alloc.max_items) in exc.value.message


def test_integer_growth_is_bounded_by_bits() -> None:
    alloc = Allocation(MB)
    big = 1 << (MAX_INT_BITS // 2 + 1)
    with pytest.raises(LimitExceeded, match="integer product"):
        alloc.mul(big, big)
    with pytest.raises(LimitExceeded, match="integer power"):
        alloc.pow(10, MAX_INT_BITS)
    with pytest.raises(LimitExceeded, match="shifted integer"):
        alloc.lshift(1, MAX_INT_BITS + 1)
    assert alloc.pow(2, 10) == 1024 and alloc.lshift(1, 10) == 1024


def test_bounded_items_stops_an_unsized_iterator_at_the_cap() -> None:
    alloc = Allocation(MB)
    assert bounded_items(alloc, "extend", 0, (i for i in range(5))) == [0, 1, 2, 3, 4]
    with pytest.raises(LimitExceeded, match="extend would create more than"):
        bounded_items(alloc, "extend", 0, itertools.count())  # endless: consumed only up to the cap
    with pytest.raises(LimitExceeded):
        bounded_items(alloc, "extend", alloc.max_items, [1])  # a sized one is checked by its length


def test_self_feeding_list_extension_ends() -> None:
    alloc = Allocation(MB)
    items = [1, 2, 3]
    with pytest.raises(LimitExceeded):
        alloc.inplace("+=", items, map(abs, itertools.cycle(items)))
    assert alloc.inplace("+=", [1], [2]) == [1, 2]
    assert alloc.inplace("+=", 1, 2.5) == 3.5


def test_only_c_codecs_are_allowed() -> None:
    check_codec("utf-8")
    check_codec("Latin-1")  # aliases are canonicalised first
    with pytest.raises(SandboxDenied, match="use one of utf-8"):
        check_codec("punycode")
    with pytest.raises(SandboxDenied, match="unknown encoding"):
        check_codec("no-such-codec")


def test_range_bytes_and_round_are_sized() -> None:
    guarded_range = make_range(100)
    assert list(guarded_range(3)) == [0, 1, 2]
    with pytest.raises(LimitExceeded) as exc:
        guarded_range(101)
    assert exc.value.limit == "loop_iterations"
    sized_bytes = make_sized(Allocation(MB), bytes)
    assert sized_bytes(3) == b"\0\0\0"
    with pytest.raises(LimitExceeded):
        sized_bytes(10**12)
    with pytest.raises(SandboxDenied):
        sized_bytes("x", "punycode")
    assert guarded_round(1234, -2) == 1200
    with pytest.raises(LimitExceeded):
        guarded_round(1, -(10**9))
