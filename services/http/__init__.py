"""The HTTP channels: a gateway that turns web forms and e-mail / IM webhooks into IntakeService calls.

It holds no data and decides nothing: every request becomes one gRPC call to intake made with the
caller's own bearer token, so validation, idempotency, access and the ticket workflow are literally
the ones gRPC clients get, and gRPC errors come back as their HTTP equivalents.
"""
