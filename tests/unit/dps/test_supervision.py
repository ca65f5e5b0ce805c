"""`dps up`'s restart policy and its supervisor, without real processes."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from dps.processes import Managed
from dps.stack import Stack, StackPlan, Supervisor
from dps.supervision import CrashHistory, GiveUp, Restart, RestartPolicy, describe_exit

POLICY = RestartPolicy(max_crashes=3, window_s=60, first_delay_s=0.5, max_delay_s=1.5)


def test_a_crash_is_restarted_with_a_delay_that_doubles_up_to_the_cap() -> None:
    history = CrashHistory(POLICY)
    assert history.record("placements", 0) == Restart(0.5, 1)
    assert history.record("placements", 1) == Restart(1.0, 2)
    assert history.record("placements", 2) == Restart(1.5, 3)  # 2.0 capped at 1.5


def test_one_crash_more_than_allowed_within_the_window_gives_up() -> None:
    history = CrashHistory(POLICY)
    for now in (0, 10, 20):
        assert isinstance(history.record("placements", now), Restart)
    decision = history.record("placements", 30)
    assert decision == GiveUp(4, 60)
    assert decision.reason == "crashed 4 times within 60s"


def test_crashes_older_than_the_window_are_forgotten() -> None:
    history = CrashHistory(POLICY)
    for now in (0, 10, 20):
        history.record("placements", now)
    assert history.record("placements", 80) == Restart(0.5, 1)  # 0, 10 and 20 are > 60 s ago
    assert history.recent("placements", 80) == 1


def test_each_process_has_its_own_count() -> None:
    history = CrashHistory(POLICY)
    for now in (0, 1, 2):
        history.record("placements", now)
    assert history.record("monitoring", 3) == Restart(0.5, 1)
    assert isinstance(history.record("placements", 4), GiveUp)


@pytest.mark.parametrize(
    "policy",
    [
        {"max_crashes": 0},
        {"window_s": 0},
        {"first_delay_s": -1},
        {"first_delay_s": 5, "max_delay_s": 1},
    ],
)
def test_a_nonsensical_policy_is_refused(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RestartPolicy(**policy)  # type: ignore[arg-type]


def test_exit_descriptions_name_the_signal_or_the_code() -> None:
    assert describe_exit(-signal.SIGKILL) == "killed by signal 9 (SIGKILL)"
    assert describe_exit(3) == "exited with code 3"


class FakeProcess:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class FakeManaged(Managed):
    def start(self) -> None:
        self.starts = getattr(self, "starts", 0) + 1
        self.process = FakeProcess(100 + self.starts)  # type: ignore[assignment]


def fake_stack(tmp_path: Path) -> tuple[Stack, FakeManaged]:
    stack = Stack(StackPlan(data_dir=tmp_path, kafka="external:9092", temporal="external:7233"))
    placements = FakeManaged("placements", ["true"], tmp_path / "placements.log")
    placements.start()
    stack.services["placements"] = placements
    return stack, placements


def test_the_supervisor_restarts_a_killed_service_after_its_delay_and_says_why(
    tmp_path: Path,
) -> None:
    stack, placements = fake_stack(tmp_path)
    said: list[str] = []
    supervisor = Supervisor(stack, POLICY, said.append)
    assert supervisor.step(0.0)
    assert placements.process is not None
    placements.process.returncode = -signal.SIGKILL
    assert supervisor.step(1.0)  # noticed, restart due at 1.5
    assert placements.starts == 1
    assert "placements killed by signal 9 (SIGKILL)" in said[0]
    assert supervisor.step(1.6)
    assert placements.starts == 2 and placements.running
    assert '"placements": 102' in (tmp_path / "stack.json").read_text()


def test_the_supervisor_gives_up_on_a_process_that_keeps_crashing(tmp_path: Path) -> None:
    stack, placements = fake_stack(tmp_path)
    said: list[str] = []
    supervisor = Supervisor(stack, POLICY, said.append)
    now = 0.0
    for _ in range(3):
        assert placements.process is not None
        placements.process.returncode = 1
        assert supervisor.step(now)
        now += 5
        assert supervisor.step(now)  # restarted
    assert placements.process is not None
    placements.process.returncode = 1
    assert not supervisor.step(now)
    assert supervisor.gave_up == "placements crashed 4 times within 60s; stopping the stack"
    assert "exited with code 1" in said[-1]
