"""Test infrastructure for ppack: a private Docker engine and registry, and helpers."""
