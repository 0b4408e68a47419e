"""RQ jobs and the cron schedule: each job takes ids, builds the app lazily, calls the services
and commits. Time lives in the database; Redis holds only work in flight."""
