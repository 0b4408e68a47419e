"""The cron schedule (`rq cron jobs/schedule.py`, TZ=Asia/Shanghai). Missed runs need no
catching up and two schedulers may run at once: the sweep finds what is due in the database
and every effect has a unique key."""

import os

from rq import cron

from jobs.tasks import evaluate_warnings, monthly_bulletin, reap_uploads, refresh_kpis, sweep, weekly_sample

cron.register(sweep, "default", interval=int(os.environ.get("SWEEP_INTERVAL_SECONDS", "60")), job_timeout=600)
cron.register(weekly_sample, "default", cron="0 8 * * 1", job_timeout=600)
cron.register(monthly_bulletin, "default", cron="0 6 1 * *", job_timeout=3600)
cron.register(reap_uploads, "default", cron="17 * * * *", job_timeout=1800)
cron.register(evaluate_warnings, "default", cron="40 * * * *", job_timeout=1800)
cron.register(refresh_kpis, "default", interval=60, job_timeout=600)
