"""Monitoring's use cases: the only code that writes. API routes, Kafka handlers and
Temporal activities call these (`assessment`, `evidence`, `alerts`, `facts`,
`notifications`)."""
