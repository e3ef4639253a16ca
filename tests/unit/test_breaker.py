"""The pure breaker transitions: opening, cool-down growth, probes, closing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayarr.jobqueue.breaker import (
    BreakerPhase,
    BreakerPolicy,
    BreakerState,
    is_claimable,
    is_clean,
    on_failure,
    on_success,
    release_probe,
    try_probe,
)

POLICY = BreakerPolicy(threshold=3, cooldown=10.0, max_cooldown=35.0, probe_timeout=100.0)


def fail_times(count: int, now: float = 0.0, state: BreakerState | None = None) -> BreakerState:
    for _ in range(count):
        state = on_failure(state, now, POLICY, name="t")
    assert state is not None
    return state


def test_failures_below_the_threshold_only_count() -> None:
    state = fail_times(2)
    assert (state.phase, state.failures, state.trips) == (BreakerPhase.CLOSED, 2, 0)
    assert is_claimable(state)
    assert not is_clean(state)


def test_the_threshold_opens_for_the_cooldown() -> None:
    state = fail_times(3, now=100.0)
    assert state.phase is BreakerPhase.OPEN
    assert (state.opened_at, state.reopen_at, state.trips) == (100.0, 110.0, 1)
    assert not is_claimable(state)


def test_a_failure_while_open_does_not_extend_the_cooldown() -> None:
    state = fail_times(4, now=100.0)
    assert (state.phase, state.reopen_at, state.failures) == (BreakerPhase.OPEN, 110.0, 4)


def test_probe_waits_for_the_cooldown_and_only_one_owner_wins() -> None:
    state = fail_times(3, now=100.0)
    assert try_probe(state, 109.0, POLICY, owner="a") is state
    won = try_probe(state, 110.0, POLICY, owner="a")
    assert won is not None
    assert (won.phase, won.probe_owner) == (BreakerPhase.HALF_OPEN, "a")
    lost = try_probe(won, 111.0, POLICY, owner="b")
    assert lost is won  # applied atomically in storage, so "b" reads that it lost
    assert try_probe(won, 111.0, POLICY, owner="a") is won


def test_a_silent_probe_can_be_taken_over() -> None:
    probing = try_probe(fail_times(3), 10.0, POLICY, owner="a")
    taken = try_probe(probing, 10.0 + POLICY.probe_timeout, POLICY, owner="b")
    assert taken is not None
    assert (taken.phase, taken.probe_owner) == (BreakerPhase.HALF_OPEN, "b")


def test_a_failed_probe_reopens_with_a_doubled_then_capped_cooldown() -> None:
    state: BreakerState | None = fail_times(3, now=0.0)
    expected = [20.0, 35.0, 35.0]  # 10 * 2, 10 * 4 capped at 35, still capped
    for cooldown in expected:
        assert state is not None
        assert state.reopen_at is not None
        now = state.reopen_at
        state = try_probe(state, now, POLICY, owner="a")
        state = on_failure(state, now, POLICY, name="t")
        assert state.phase is BreakerPhase.OPEN
        assert state.reopen_at == now + cooldown


def test_success_closes_and_resets_everything() -> None:
    probing = try_probe(fail_times(3), 10.0, POLICY, owner="a")
    closed = on_success(probing, 11.0, name="t")
    assert closed == BreakerState(name="t", updated_at=11.0)
    assert is_clean(closed)
    # After a clean close the next trip starts from the base cool-down again.
    assert fail_times(3, now=20.0, state=closed).reopen_at == 30.0


def test_success_of_a_straggler_while_open_changes_nothing() -> None:
    state = fail_times(3)
    assert on_success(state, 1.0, name="t") is state


def test_success_on_a_clean_or_missing_breaker_is_a_no_op() -> None:
    assert on_success(None, 1.0, name="t") is None
    clean = BreakerState(name="t")
    assert on_success(clean, 1.0, name="t") is clean
    assert on_success(fail_times(1), 1.0, name="t") == BreakerState(name="t", updated_at=1.0)


def test_release_probe_reopens_due_now_for_others() -> None:
    probing = try_probe(fail_times(3), 10.0, POLICY, owner="a")
    assert release_probe(probing, 12.0, owner="b") is probing  # not b's to release
    released = release_probe(probing, 12.0, owner="a")
    assert released is not None
    assert (released.phase, released.reopen_at, released.probe_owner) == (
        BreakerPhase.OPEN,
        12.0,
        None,
    )
    again = try_probe(released, 12.0, POLICY, owner="b")
    assert again is not None
    assert again.probe_owner == "b"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0},
        {"cooldown": -1.0},
        {"cooldown": float("nan")},
        {"cooldown": 10.0, "max_cooldown": 5.0},
    ],
)
def test_policy_is_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="breaker"):
        BreakerPolicy(**kwargs)  # type: ignore[arg-type]


def test_cooldown_does_not_overflow() -> None:
    assert BreakerPolicy().cooldown_for(10_000) == 600.0


Step = tuple[str, float]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["fail", "succeed", "probe-a", "probe-b"]),
            st.floats(min_value=0, max_value=50),
        ),
        max_size=40,
    )
)
def test_any_history_keeps_the_invariants(steps: list[Step]) -> None:
    state: BreakerState | None = None
    now = 0.0
    for action, dt in steps:
        now += dt
        if action == "fail":
            state = on_failure(state, now, POLICY, name="t")
        elif action == "succeed":
            state = on_success(state, now, name="t")
        else:
            state = try_probe(state, now, POLICY, owner=action[-1])
        if state is None:
            continue
        assert state.failures >= 0
        assert (state.phase is BreakerPhase.HALF_OPEN) == (state.probe_owner is not None)
        if state.phase is BreakerPhase.OPEN:
            assert state.reopen_at is not None
            assert state.opened_at is not None
            # reopen_at is stored as a time, so the difference carries float rounding.
            assert state.reopen_at - state.opened_at <= POLICY.max_cooldown + 1e-9
        if state.phase is BreakerPhase.CLOSED:
            assert state.failures < POLICY.threshold
