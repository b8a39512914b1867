"""A package of several modules."""
VERSION = (1, 0)
