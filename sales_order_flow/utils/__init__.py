from .internal_context import INTERNAL_MARKER, has_internal_key, internal_context
from .locking import lock_rows_for_retry
