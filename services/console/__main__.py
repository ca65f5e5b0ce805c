"""`python -m services.console`: serve the console (what `dps up` starts)."""

from __future__ import annotations

import uvicorn

from services.console.app import build_app
from services.console.settings import ConsoleSettings
from shared.logging import configure_logging


def main() -> None:
    settings = ConsoleSettings()
    configure_logging("console", settings.log_level, settings.log_json)
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.console_port,
        log_config=None,
        access_log=False,
        proxy_headers=settings.trust_forwarded_proto,
        # Behind the cluster's ingress (deploy/k8s/console.yaml) the proxy's address is
        # not known ahead; the NetworkPolicy lets only the ingress controller reach the pod.
        forwarded_allow_ips="*" if settings.trust_forwarded_proto else None,
    )


if __name__ == "__main__":
    main()
