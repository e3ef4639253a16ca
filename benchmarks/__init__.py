"""relayarr's benchmark suite: the durable queue against huey's SqliteStorage, same machine.

Run everything with ``make bench`` (``python -m benchmarks``); ``--quick`` for a small run,
``--help`` for the knobs. Each workload runs against a fresh SQLite file in a temporary
directory, three times by default, and the median is reported:

1. enqueue, one job per ``await queue.add_job(...)``
2. batch enqueue, ``await queue.add_jobs([...])`` of N jobs and of 100,000 jobs
3. drain of N pre-filled no-op jobs in one process, at several concurrencies, with the
   longest event-loop stall seen meanwhile
4. idle enqueue-to-start latency, p50 and p99
5. claim cost with an empty history against a history of 1,000,000 rows

The peer is huey's SqliteStorage, driven the way huey's own consumer drives it, at its
default (``synchronous=FULL``) and with ``synchronous=NORMAL`` (WAL), the durability
relayarr's default has. Modules: :mod:`.ours` (relayarr's workloads), :mod:`.huey_peer`,
:mod:`.history` (the million-row history), :mod:`.ceiling` (raw sqlite3 reference),
:mod:`.suite` (runs and medians), :mod:`.report` (the tables), :mod:`.profile` (cProfile of
one drain). Benchmarks are never timed tests: ``tests/unit/test_benchmarks_smoke.py`` only
checks that every workload runs and reports sane numbers.
"""
