"""carepress core: content → document plan → HTML → PDF. No queue, no HTTP, no global state."""

__version__ = "0.1.0"
