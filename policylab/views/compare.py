"""The policy lab's comparison pages."""
