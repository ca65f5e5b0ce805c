"""`dps up`: the whole embedded stack as separate supervised processes.

Tansu (Kafka protocol, in memory), the Temporal dev server (SQLite file), a local mail
server that keeps what monitoring sends under <data>/mail (dps.mailserver), the four
services, each its own process with its own SQLite database under the data directory, and
the officers' console (services/console), which keeps no database.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dps import pointer, processes
from dps.processes import Managed, StackError
from dps.supervision import CrashHistory, GiveUp, RestartPolicy, describe_exit
from shared.files import private_dir
from shared.settings import SERVICE_PORTS, SERVICES, CommonSettings


@dataclass
class StackPlan:
    data_dir: Path
    kafka: str | None = None  # external bootstrap; None starts Tansu
    temporal: str | None = None  # external address; None starts the dev server
    kafka_port: int = 9092
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    service_ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    headless_temporal: bool = False
    time_skipping: bool = False  # let tests and demos fast-forward a workflow's clock
    database_urls: dict[str, str] = field(default_factory=dict)  # default: SQLite files
    extra_env: dict[str, str] = field(default_factory=dict)
    console_port: int = 0  # the officers' console; 0: not started (`dps up` starts it)
    # The local mail server (dps.mailserver, aiosmtpd) that keeps what monitoring sends in
    # <data>/mail; 0: not started (`dps up` starts it unless DPS_SMTP_HOST names one).
    mail_port: int = 0

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka or f"127.0.0.1:{self.kafka_port}"

    @property
    def temporal_address(self) -> str:
        return self.temporal or f"127.0.0.1:{self.temporal_port}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def service_env(self, name: str) -> dict[str, str]:
        return {
            "DPS_DATA_DIR": str(self.data_dir),
            "DPS_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "DPS_TEMPORAL_ADDRESS": self.temporal_address,
            "DPS_HTTP_PORT": str(self.service_ports[name]),
            **(
                {"DPS_DATABASE_URL": self.database_urls[name]} if name in self.database_urls else {}
            ),
            **(self.mail_env() if name == "monitoring" else {}),
            **self.extra_env,
        }

    def mail_env(self) -> dict[str, str]:
        """Monitoring's SMTP settings for the local mail server, and the console's
        address for the links in providers' e-mails."""
        found: dict[str, str] = {}
        if self.mail_port:
            found |= {
                "DPS_SMTP_HOST": "127.0.0.1",
                "DPS_SMTP_PORT": str(self.mail_port),
                "DPS_SMTP_SECURITY": "none",
            }
        if self.console_port and "DPS_CONSOLE_BASE_URL" not in os.environ:
            found["DPS_CONSOLE_BASE_URL"] = f"http://127.0.0.1:{self.console_port}"
        return found

    def console_env(self) -> dict[str, str]:
        return {
            "DPS_DATA_DIR": str(self.data_dir),
            "DPS_CONSOLE_PORT": str(self.console_port),
            "DPS_TEMPORAL_ADDRESS": self.temporal_address,  # the /training page (--training)
            **{
                f"DPS_{name.upper()}_URL": f"http://127.0.0.1:{port}"
                for name, port in self.service_ports.items()
            },
            **self.extra_env,
        }


CONSOLE = "console"


class Stack:
    """Starts, watches and stops the processes of one embedded stack."""

    def __init__(self, plan: StackPlan) -> None:
        self.plan = plan
        self.broker: Managed | None = None
        self.temporal: Managed | None = None
        self.mail: Managed | None = None
        self.services: dict[str, Managed] = {}

    @property
    def all(self) -> list[Managed]:
        infra = [m for m in (self.broker, self.temporal, self.mail) if m is not None]
        return [*infra, *self.services.values()]

    def check_not_running(self) -> None:
        """One stack per data folder: a second would share its databases and secrets."""
        recorded = recorded_supervisor(self.pidfile)
        if recorded is not None and recorded != os.getpid() and pointer.is_alive(recorded):
            raise StackError(
                f"a stack is already running from {self.plan.data_dir} (supervisor pid "
                f"{recorded}): stop it with `dps down` first, or use another --data-dir"
            )

    def check_ports(self) -> None:
        wanted = dict(self.plan.service_ports)
        if self.plan.console_port:
            wanted[CONSOLE] = self.plan.console_port
        if self.plan.mail_port:
            wanted["mail"] = self.plan.mail_port
        if self.plan.kafka is None:
            wanted["kafka"] = self.plan.kafka_port
        if self.plan.temporal is None:
            wanted["temporal"] = self.plan.temporal_port
            if not self.plan.headless_temporal:
                wanted["temporal ui"] = self.plan.temporal_ui_port
        for name, port in wanted.items():
            if processes.port_open("127.0.0.1", port):
                raise StackError(
                    f"port {port} (for {name}) is already in use: stop what uses it "
                    f"(`dps down` if it is an earlier stack) or choose another port"
                )

    def start_infrastructure(self) -> None:
        plan = self.plan
        private_dir(plan.data_dir)  # databases, logs and keys: the owner's only
        if plan.kafka is None:
            self.broker = processes.tansu(plan.kafka_port, plan.log_dir)
            self.broker.start()
            processes.wait_for_port(self.broker, plan.kafka_port, timeout=20)
        if plan.temporal is None:
            make = processes.temporal_server if plan.headless_temporal else processes.temporal_ui
            self.temporal = make(
                plan.temporal_port,
                plan.temporal_ui_port,
                plan.data_dir / "temporal.db",
                plan.log_dir,
                time_skipping=plan.time_skipping,
            )
            self.temporal.start()
            processes.wait_for_port(self.temporal, plan.temporal_port, timeout=60)
        if plan.mail_port:
            self.mail = processes.mail_server(plan.mail_port, plan.data_dir, plan.log_dir)
            self.mail.start()
            processes.wait_for_port(self.mail, plan.mail_port, timeout=20)

    def start_service(self, name: str, roles: str = "all") -> Managed:
        managed = processes.service(name, self.plan.service_env(name), self.plan.log_dir, roles)
        managed.start()
        self.services[name] = managed
        return managed

    def start_replica(self, name: str, port: int, roles: str = "consumer") -> Managed:
        """A second process of a service in the same consumer groups (scale-out)."""
        env = {**self.plan.service_env(name), "DPS_HTTP_PORT": str(port)}
        managed = processes.service(name, env, self.plan.log_dir, roles)
        managed.name = f"{name}#{port}"
        managed.log_path = self.plan.log_dir / f"{name}-{port}.log"
        managed.start()
        processes.wait_for_ready(managed, f"http://127.0.0.1:{port}/readyz", 90)
        return managed

    def start_console(self) -> Managed:
        """The console, supervised like a service (restarted when it dies)."""
        managed = Managed(
            CONSOLE,
            [sys.executable, "-m", "services.console"],
            self.plan.log_dir / "console.log",
            env=self.plan.console_env(),
        )
        managed.start()
        self.services[CONSOLE] = managed
        url = f"http://127.0.0.1:{self.plan.console_port}/readyz"
        # As long as a service gets (wait_ready): about 3 s on an idle machine, but over
        # 30 s while four services start beside it on a loaded one (CI, 2026-12-06).
        processes.wait_for_ready(managed, url, 90)
        return managed

    def wait_ready(self, name: str, timeout: float = 90) -> None:
        port = self.plan.service_ports[name]
        processes.wait_for_ready(self.services[name], f"http://127.0.0.1:{port}/readyz", timeout)

    def start(self) -> None:
        self.check_not_running()
        self.check_ports()
        self.start_infrastructure()
        for name in SERVICES:
            self.start_service(name)
        for name in SERVICES:
            self.wait_ready(name)
        if self.plan.console_port:
            self.start_console()
        self.write_pidfile()

    def stop(self) -> None:
        for managed in reversed(self.all):
            managed.stop()
        # Only our own record: a start refused (say, a port in use by the stack already
        # running from this folder) must not erase that stack's record.
        if recorded_supervisor(self.pidfile) == os.getpid():
            self.pidfile.unlink(missing_ok=True)
            pointer.clear_pointer(self.plan.data_dir)

    @property
    def pidfile(self) -> Path:
        return self.plan.data_dir / "stack.json"

    def write_pidfile(self) -> None:
        pids = {m.name: m.process.pid for m in self.all if m.process is not None}
        record = {
            "supervisor": os.getpid(),
            "processes": pids,
            "service_ports": self.plan.service_ports,
        }
        self.pidfile.write_text(json.dumps(record))
        # For `dps token`/`status` in another terminal (dps.pointer).
        pointer.write_pointer(self.plan.data_dir, self.plan.service_ports, os.getpid())

    def failed(self) -> list[Managed]:
        return [m for m in self.all if not m.running]

    def restart(self, managed: Managed) -> None:
        """Start a dead process again the way it was first started.

        Tansu comes back empty (in memory): the services notice and replay their
        outboxes (shared.bus.BrokerWatch). Temporal comes back on its SQLite file.
        A service is not waited for: if it cannot start, it dies again and its next
        crash is counted like any other.
        """
        managed.start()
        if managed is self.broker:
            processes.wait_for_port(managed, self.plan.kafka_port, timeout=20)
        elif managed is self.temporal:
            processes.wait_for_port(managed, self.plan.temporal_port, timeout=60)
        elif managed is self.mail:
            processes.wait_for_port(managed, self.plan.mail_port, timeout=20)
        self.write_pidfile()


Say = Callable[[str], None]


class Supervisor:
    """Watches a started stack: restarts what dies, with backoff, until told to stop or
    until one process keeps crashing (RestartPolicy)."""

    def __init__(self, stack: Stack, policy: RestartPolicy, say: Say) -> None:
        self.stack = stack
        self.history = CrashHistory(policy)
        self.say = say
        self.due: dict[str, float] = {}  # process name -> when to start it again
        self.gave_up: str | None = None

    def step(self, now: float) -> bool:
        """One look at every process; False once the stack must stop."""
        for managed in self.stack.all:
            if managed.name not in self.due and not managed.running:
                if not self._crashed(managed, now):
                    return False
        for managed in self.stack.all:
            if managed.name in self.due and now >= self.due[managed.name]:
                del self.due[managed.name]
                self._start_again(managed)
        return True

    def _crashed(self, managed: Managed, now: float) -> bool:
        code = managed.process.returncode if managed.process is not None else None
        how = describe_exit(code) if code is not None else "not running"
        decision = self.history.record(managed.name, now)
        if isinstance(decision, GiveUp):
            self.gave_up = f"{managed.name} {decision.reason}; stopping the stack"
            self.say(f"{managed.name} {how}; {self.gave_up}:\n{managed.tail()}")
            return False
        self.say(
            f"{managed.name} {how} (crash {decision.recent_crashes} of "
            f"{self.history.policy.max_crashes} allowed within "
            f"{self.history.policy.window_s:.0f}s); restarting in {decision.delay_s:.1f}s"
        )
        self.due[managed.name] = now + decision.delay_s
        return True

    def _start_again(self, managed: Managed) -> None:
        try:
            self.stack.restart(managed)
            self.say(f"{managed.name} restarted (pid {managed.process and managed.process.pid})")
        except (StackError, OSError) as exc:
            # Died again at start: the next step counts it as another crash.
            self.say(f"{managed.name} failed to restart: {exc}")

    def run(self, stopping: Callable[[], bool], interval_s: float = 0.5) -> None:
        while not stopping() and self.step(time.monotonic()):
            time.sleep(interval_s)


def recorded_supervisor(pidfile: Path) -> int | None:
    """The supervisor pid a stack recorded in ``pidfile``, or None."""
    try:
        return int(json.loads(pidfile.read_text())["supervisor"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stop_recorded_stack(settings: CommonSettings) -> list[str]:
    """`dps down`: ask the supervisor of a running stack to stop everything."""
    pidfile = settings.data_dir / "stack.json"
    if not pidfile.exists():
        return []
    recorded = json.loads(pidfile.read_text())
    stopped = []
    try:
        os.kill(recorded["supervisor"], signal.SIGTERM)
        stopped.append("supervisor")
    except ProcessLookupError:
        # The supervisor died without cleaning up: stop its children ourselves.
        for name, pid in recorded["processes"].items():
            try:
                os.killpg(pid, signal.SIGTERM)
                stopped.append(name)
            except ProcessLookupError:
                pass
        pidfile.unlink(missing_ok=True)
    deadline = time.monotonic() + 20
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return stopped
