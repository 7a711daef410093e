"""Semantic search: which model (model_choice), the embedding engine (engine, the only module that
imports torch, through torch_compat), the numpy text encoder and BPE, image preparation, the
embedding pipeline, stored vectors, the Annoy index, the query language and search. It may
import `base` and `catalogue`.
"""
