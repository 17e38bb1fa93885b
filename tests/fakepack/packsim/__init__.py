"""The logic of the ``pack`` stand-in: pack v0.40.5's image choices, without building.

Written from pack's behaviour (the shared reference, cross-checked against pack's source
at the v0.40.5 commit), independently of ppack, so that the two check each other.
"""
