"""What every app of Whistle shares and that is about no app in particular: the service errors'
base, the API's error shape and base viewset, the pages' service runner, and the per-process
copy of reference data. It imports no app of its own (the layers in pyproject.toml)."""
