"""Sending one e-mail over SMTP (the standard library's smtplib, run in a thread so the
event loop never waits on a mail server), with the configured transport security and
login. Alerts to officers and providers' notifications both go through here."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from services.monitoring.settings import MonitoringSettings


def _connect(settings: MonitoringSettings) -> smtplib.SMTP:
    if settings.smtp_security == "tls":
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=settings.smtp_timeout_s,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)


def send_now(settings: MonitoringSettings, message: EmailMessage) -> None:
    """Hand the message to the SMTP server; raises if it was not accepted."""
    with _connect(settings) as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


async def send(settings: MonitoringSettings, message: EmailMessage) -> None:
    await asyncio.to_thread(send_now, settings, message)
