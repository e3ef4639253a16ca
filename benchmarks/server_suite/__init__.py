"""The server suite: relayarr against its peers on PostgreSQL and on Redis, same servers.

``python -m benchmarks`` runs it after the SQLite suite (``--engines postgresql,redis`` for
the servers only). It starts a throwaway PostgreSQL and redis-server exactly as the tests
do (:mod:`.servers`), and runs, on each engine, the SQLite suite's workloads that apply:
one-per-call enqueue, drain of pre-filled no-op jobs by 1 and 2 worker processes, and idle
enqueue-to-start latency across processes. Peers: procrastinate on PostgreSQL; rq,
dramatiq and arq on Redis, each driven by its own worker (:mod:`.procrastinate_peer`,
:mod:`.rq_peer`, :mod:`.dramatiq_peer`, :mod:`.arq_peer`; relayarr in
:mod:`.relayarr_side`). :mod:`.harness` runs worker processes and times them,
:mod:`.suite` runs the rounds, :mod:`.report` makes the tables.
"""
