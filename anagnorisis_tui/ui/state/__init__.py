"""UI-free view state the screens read and the tests drive alone: what a search holds, the grid's
data sources, what the groups and train views show, names made safe to show. Nothing here draws.
"""
