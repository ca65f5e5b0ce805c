"""`dps up`'s mail server: monitoring is pointed at it (and at the console for links),
no other service is; the server keeps each message as a 0600 file; `dps mail` lists
them and prints one."""

from __future__ import annotations

import smtplib
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dps import processes
from dps.cli import app
from dps.mailserver import kept, mail_dir
from dps.stack import StackPlan

runner = CliRunner()


def test_only_monitoring_is_pointed_at_the_mail_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DPS_CONSOLE_BASE_URL", raising=False)
    plan = StackPlan(data_dir=tmp_path, mail_port=2525, console_port=8000)
    env = plan.service_env("monitoring")
    assert (env["DPS_SMTP_HOST"], env["DPS_SMTP_PORT"]) == ("127.0.0.1", "2525")
    assert env["DPS_CONSOLE_BASE_URL"] == "http://127.0.0.1:8000"
    assert "DPS_SMTP_HOST" not in plan.service_env("procurement")
    assert "DPS_SMTP_HOST" not in StackPlan(data_dir=tmp_path).service_env("monitoring")


def test_the_mail_server_keeps_each_message_for_its_owner_only(tmp_path: Path) -> None:
    port = processes.free_port()
    server = processes.mail_server(port, tmp_path, tmp_path / "logs")
    server.start()
    try:
        processes.wait_for_port(server, port, timeout=20)
        message = EmailMessage()
        message["From"], message["To"] = "dps@council.example", "ann@oakfield.example"
        message["Subject"] = "Invitation to bid: call-off c-1"
        message.set_content("See the portal.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        server.stop()
    [mail] = kept(mail_dir(tmp_path))
    assert (mail.to, mail.subject) == ("ann@oakfield.example", "Invitation to bid: call-off c-1")
    assert stat.S_IMODE(mail.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(mail_dir(tmp_path).stat().st_mode) == 0o700

    listed = runner.invoke(app, ["mail", "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert "ann@oakfield.example" in listed.output and "1 e-mail(s)" in listed.output
    shown = runner.invoke(app, ["mail", "--data-dir", str(tmp_path), "--show", "1"])
    assert shown.exit_code == 0 and "See the portal." in shown.output
    missing = runner.invoke(app, ["mail", "--data-dir", str(tmp_path), "--show", "2"])
    assert missing.exit_code != 0
