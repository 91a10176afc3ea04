"""Reports of campaigns: :func:`scientia.report.html.write_report` writes one HTML file."""
