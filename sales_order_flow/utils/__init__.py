from .cron import cron_commit, run_isolated, schedule_failure_activity
from .locking import lock_keys_for_retry, lock_rows_for_retry
