"""The schemathesis generation modes an OpenAPI operation can be fuzzed in."""

import schemathesis


def generation_modes(operation) -> list:
    """Positive always; negative only when the request carries something to get wrong (a
    GET without parameters or body, such as /api/me/alerts/, has no invalid form)."""
    modes = [schemathesis.GenerationMode.POSITIVE]
    sent = [p for p in operation.iter_parameters() if p.location.value in ("path", "query")]
    if sent or list(operation.body):
        modes.append(schemathesis.GenerationMode.NEGATIVE)
    return modes
