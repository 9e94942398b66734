"""A plugin clashing with a built-in name and with another third party; bad targets."""
