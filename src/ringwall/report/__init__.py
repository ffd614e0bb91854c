"""Reports: formatters that render analysis results and findings, never recompute them."""
