"""Deployable stacks that compose the constructs of ``constructs_lib``."""
