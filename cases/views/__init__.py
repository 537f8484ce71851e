"""The pages of cases (cases.urls)."""
