"""Benchmarks of the pipeline, run on demand from the repository root: ``python -m bench.<group>.<study>``.

``bench.lib`` holds what studies share (the child-process runner, synthetic rounds, the machine and commit
stamp, result JSON, Markdown tables); ``bench.speed``, ``bench.safety`` and ``bench.quality`` hold the
studies, each writing ``bench/results/<study>.json``; ``python -m bench.report`` regenerates the tables
of ``bench/README.md`` from those files.
"""
