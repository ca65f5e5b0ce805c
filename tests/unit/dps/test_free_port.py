"""free_port hands out ports a listener can still bind when it starts: outside the
kernel's ephemeral range (where outgoing connections take their source ports), free when
handed out, and never the same one twice in a process."""

from __future__ import annotations

import socket

import pytest

from dps import processes


def test_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    low, _ = processes._ephemeral_range()
    ports = [processes.free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(processes._LOWEST_PORT <= port < low for port in ports)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", ports[-1]))  # free as promised


def test_a_port_in_use_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        real, tries = processes._RANDOM.randrange, []

        def busy_first(low: int, high: int) -> int:
            tries.append(low)
            return busy if len(tries) <= 2 else real(low, high)

        monkeypatch.setattr(processes._RANDOM, "randrange", busy_first)
        assert processes.free_port() != busy
        assert len(tries) >= 3  # the busy port was tried twice and passed over


def test_an_unreadable_range_falls_back_to_linux_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreadable(_self: object) -> str:
        raise OSError("no /proc here")

    monkeypatch.setattr(processes.Path, "read_text", unreadable)
    assert processes._ephemeral_range() == (32_768, 60_999)
