"""frontdesk: a live-chat customer-support server that knows who you are talking to."""

__version__ = "0.1.0"
