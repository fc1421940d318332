"""Reference data a report is checked against: the directory of exchanges, subscribers and VIPs.

``directory`` answers for a report, ``directory_repository`` is its SQL, ``directory_import`` loads
operators' CSV files.
"""
