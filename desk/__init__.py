"""Shared code of every service desk process: settings, errors, events, telemetry, access."""
