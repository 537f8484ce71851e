"""What every app of Whistle shares and that is about no app in particular: the service errors'
base, the API's error shape and base viewset, the pages' service runner, the per-process
copy of reference data, and named leases held by one process at a time (core.leases). It
imports no app of its own (the layers in pyproject.toml)."""
