"""Context keys only the addon's own Python code can set.

RPC callers choose their context: JSON-RPC and XML-RPC carry strings, numbers,
booleans, lists and dicts, never a Python object. The addon's internal keys
therefore hold the sentinel below and are checked by identity (``is``): a client
sending the same key with ``True`` (or anything else) gets nothing from it.

Why a context value rather than a marker on the cursor: the deferral must
follow the records it is set on (the order's own create/write, the lines the
discount rules write), exactly as the context does through ``sudo()`` and
``with_user()``, and end with them; a transaction-wide marker would also
silence evaluations of unrelated orders written meanwhile.

The sentinel is only set on environments used inside ``create``/``write`` (the
order's own, and the discount rules' line writes); none of them builds an
action, an email or a report. Should it still be serialized, JSON gives its
``str()`` (see ``odoo.tools.json.json_default``), which fails the identity
check when it comes back: a serialized sentinel grants nothing.
"""


class _InternalMarker:
    __slots__ = ()

    def __repr__(self):
        return "<sales_order_flow internal marker>"

    def __reduce__(self):
        # Copies (copy/deepcopy/pickle) stay the very same object.
        return "INTERNAL_MARKER"


INTERNAL_MARKER = _InternalMarker()


def internal_context(*keys):
    """Context values setting ``keys`` so that :func:`has_internal_key` sees them."""
    return dict.fromkeys(keys, INTERNAL_MARKER)


def has_internal_key(env, key):
    """Whether ``key`` was set in ``env``'s context by the addon's own code."""
    return env.context.get(key) is INTERNAL_MARKER
