"""cc-executor: hand tasks to fresh Claude Code instances, watch them, steer them."""

__version__ = "2.0.0"
