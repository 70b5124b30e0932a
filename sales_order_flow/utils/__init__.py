from .locking import lock_rows_for_retry
