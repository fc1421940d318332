"""What other code may know of the stats service: how its report is rendered for people (the HTTP
gateway's downloads and page, the command line's files)."""

from __future__ import annotations

from services.stats.exports import XLSX_MEDIA_TYPE, file_stem, report_csv, report_json, report_xlsx
from services.stats.report_page import report_html

__all__ = ["XLSX_MEDIA_TYPE", "file_stem", "report_csv", "report_html", "report_json", "report_xlsx"]
