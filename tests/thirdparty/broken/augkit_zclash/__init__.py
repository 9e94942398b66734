"""A second third-party plugin registering a name augkit-clash registers too."""
