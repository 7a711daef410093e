"""The demo library: generated coloured shapes a new user can try the app on, and the shape
drawing the shipped tiny CLIP was trained on. It may import `base` and `catalogue`.
"""
