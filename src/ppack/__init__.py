"""ppack: `pack build` with pull policies on a schedule."""

from __future__ import annotations


__version__ = "0.1.0"
