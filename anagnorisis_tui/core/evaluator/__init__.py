"""The personal evaluator: training regressors on the user's ratings over image vectors, honest
metrics, the model store and predictions, the rate-next queue, and ratings import/export
(files, XMP sidecars). It may import `base` and `semantic` (vectors only).
"""
