"""What every app's API shares: the error shape (core.api.errors) and the base viewset
(core.api.views). It registers no endpoints of its own (whistle.api_urls)."""
