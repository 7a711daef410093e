"""Duplicates: perceptual hashes, the near-neighbour candidate index, grouping, and the actions on
a group's files that lose nothing (plan, apply with undo, the trash). It may import `base`,
`catalogue` and `semantic` (vectors only).
"""
