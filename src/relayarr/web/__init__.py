"""relayarr's HTTP service: webhooks in, the jobs API, live events, health and metrics.

Built by :func:`create_app` over a :class:`~relayarr.jobqueue.JobQueue`; run by
``relayarr serve`` (:mod:`relayarr.web.server`). Routes live in :mod:`relayarr.web.routes`,
one module per concern; every error answer is made in :mod:`relayarr.web.errors`.
"""

from relayarr.web.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
