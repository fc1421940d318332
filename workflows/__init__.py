"""Temporal workflows: deterministic, they decide and wait; activities do the I/O."""
