"""Outbound delivery of monitoring: e-mail (SMTP) and webhooks to officers, and providers'
notification e-mails. Background loops send what commands queued as rows; nothing here
runs inside the transaction that queued it."""
