"""Report data builders, templates and WeasyPrint rendering (see issue 6)."""
