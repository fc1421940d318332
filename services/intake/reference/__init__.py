"""Reference data a report is checked against: the directory (exchanges, subscribers, VIPs) and outages.

``directory`` answers for a report, ``directory_repository`` is its SQL, ``directory_import`` loads
operators' CSV files; ``outages`` decides whether a report belongs to a declared outage.
"""
