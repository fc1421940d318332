"""Intake's outbox relay: the events ticket workflows recorded, published to JetStream in order.

``outbox`` is the SQL of the queue and its dead letters; ``relay`` is the loop that publishes it.
"""
