"""Adaptive Card builders: pure functions from a view model to a card dict (v1.5, validated for Teams)."""
