"""Known outages (已修复 / 受工程影响): which reports belong to one, and resolving their tickets after repair.

``matching`` decides whether a report falls in a declared outage and bounds a declaration;
``resolution`` starts (or joins) the durable resolution of an outage's linked tickets, the workflow
``outage/<outage_id>`` (workflows/outage.py), whose batches are ``activities``.
"""
