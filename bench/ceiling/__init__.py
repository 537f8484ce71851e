"""The ceiling of the intake benchmark: the cheapest authenticated insert through the stack."""
