"""Command-line entry points of hypertopo."""
