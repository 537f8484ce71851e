"""Open311 GeoReport v2 for the 12345 hotline and other client systems, and what the public
may see of a case (shared with the citizen's tracking page)."""
