"""Domain mixins of :class:`pyexchange.Exchange`, one module per domain."""
