"""RQ jobs and the cron schedule: each job takes ids and calls the services (see issue 4)."""
