"""The cron configuration the real `rq cron` process of test_schedules_real.py loads (this
directory is on its PYTHONPATH). The interval job runs at once on start, then every hour."""

import control_jobs
from rq import cron

cron.register(
    control_jobs.count_run, "default", args=("rq-gateway:test:cron-runs",), interval=3600, name="hourly"
)
cron.register(
    control_jobs.count_run, "reports", args=("rq-gateway:test:cron-runs",), cron="0 3 * * *", name="nightly"
)
