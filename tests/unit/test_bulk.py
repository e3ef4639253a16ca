"""paused_gc: the collector is paused for bulk work and always put back as it was."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from relayarr.jobqueue.bulk import BULK, paused_gc


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_small_work_leaves_the_collector_alone() -> None:
    gc.enable()
    with paused_gc(BULK - 1):
        assert gc.isenabled()


def test_bulk_work_pauses_it_and_restores_it_even_on_error() -> None:
    gc.enable()
    seen: list[bool] = []

    def fail() -> None:
        with paused_gc(BULK):
            seen.append(gc.isenabled())
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()
    assert seen == [False]
    assert gc.isenabled()


def test_nested_sections_restore_once_at_the_outermost() -> None:
    gc.enable()
    with paused_gc(BULK):
        with paused_gc(BULK):
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_disabled_by_the_application_stays_disabled() -> None:
    gc.disable()
    with paused_gc(BULK):
        pass
    assert not gc.isenabled()


def test_overlapping_sections_in_two_threads_restore_when_the_last_closes() -> None:
    gc.enable()
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc(BULK):
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=other)
    with paused_gc(BULK):
        thread.start()
        assert inside.wait(30)
    assert not gc.isenabled()  # the other thread's section is still open
    release.set()
    thread.join(30)
    assert gc.isenabled()
