"""Figure recipes."""
