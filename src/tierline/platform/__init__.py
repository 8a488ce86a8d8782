"""Shared plumbing. Nothing here imports a domain package."""
