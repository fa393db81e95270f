"""Training runs behind ``scripts/make_sample_logs.py`` (one module per trainer).

Each module has a ``RUNS`` dict ``name -> function(outdir)`` and is run as
``python -m sample_runs.<module> <name> <outdir>`` by the driver, in the trainer venv
(``scripts/requirements-samples.txt``), one process per run so that seeds, logging
handlers and ``KERAS_BACKEND`` do not leak between runs.
"""
