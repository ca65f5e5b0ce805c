"""Monitoring's own settings: outbound delivery (SMTP, webhook), escalation, the KPI
check and providers' e-mail notifications (DPS_ prefix: DPS_SMTP_HOST, ...)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.monitoring import domain
from services.monitoring.delivery import notifications


class MonitoringSettings(BaseSettings):
    """Outbound delivery and escalation settings (DPS_SMTP_HOST, DPS_WEBHOOK_URL, ...)."""

    model_config = SettingsConfigDict(env_prefix="DPS_", env_file=".env", extra="ignore")

    smtp_host: str = ""  # empty: email is not sent (deliveries are marked skipped)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    # none: plain SMTP (a local relay); starttls: upgrade after connecting (port 587);
    # tls: implicit TLS from the first byte (port 465). Certificates are verified.
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_user: str = ""  # empty: no AUTH
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "dps-monitoring@localhost"
    smtp_to: str = ""  # comma-separated monitoring officers' inbox(es)
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    webhook_url: str = ""  # empty: no webhook
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    delivery_poll_s: float = Field(default=0.5, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    delivery_backoff_s: float = Field(default=1.0, gt=0)
    escalation_sweep_s: float = Field(default=1.0, gt=0)
    escalated_to: str = "head-of-commissioning"
    # A term's KPI return is due this many working days after the term's window ends.
    kpi_return_working_days: int = Field(default=domain.KPI_RETURN_WORKING_DAYS, ge=1, le=60)
    kpi_check_enabled: bool = True  # run the termly KpiReturnCheck workflow
    # Providers' e-mails link here: the console's public address (its /portal pages).
    console_base_url: str = "http://127.0.0.1:8000"
    # A deadline reminder goes this many hours before a call-off's bid deadline.
    notification_reminder_lead_h: float = Field(
        default=notifications.DEFAULT_REMINDER_LEAD.total_seconds() / 3600, gt=0, le=24 * 30
    )

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.smtp_to.split(",") if address.strip()]

    @property
    def reminder_lead(self) -> timedelta:
        return timedelta(hours=self.notification_reminder_lead_h)
