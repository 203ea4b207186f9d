"""What the studies share: ``paths``, ``runner`` (child processes: wall and CPU time, peak RSS, watchdog),
``synth`` (synthetic rounds), ``rounds`` (round files and rounds rebuilt from units), ``stamp`` (machine
and commit), ``tables`` (Markdown rendering of result tables), ``results`` (the JSON files) and ``real_docs``
(the real-document set of ``tests/fixtures/real``: which files are here, checked, and what reading one gives)."""
