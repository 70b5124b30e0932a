from .cron import cron_commit, run_isolated, schedule_failure_activity
from .internal_context import INTERNAL_MARKER, has_internal_key, internal_context
from .locking import lock_keys_for_retry, lock_rows_for_retry
