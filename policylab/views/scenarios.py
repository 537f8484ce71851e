"""The policy lab's scenario and replay pages."""
