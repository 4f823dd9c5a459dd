"""Helpers the rest of the package shares: errors, registration, atomic files, Paddle 3 fixes."""
