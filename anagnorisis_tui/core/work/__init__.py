"""Heavy work in a child process (runner.py, child.py), and the tasks it runs (tasks.py). It sits
above `library` (a task opens a Library in the child) and may import any of the core.
"""
