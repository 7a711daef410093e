"""Heavy work in a child process (runner.py), and the tasks it runs (tasks.py)."""
