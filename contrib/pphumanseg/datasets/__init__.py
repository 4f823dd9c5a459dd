"""Registered datasets."""
