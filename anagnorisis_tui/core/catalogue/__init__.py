"""The catalogue: what files a library holds and what they are. The walk, the scan passes (the
record pass reads headers and content hashes; the ingest pass reads and decodes each new content
once for its pixel identity, perceptual hash, thumbnail and vector; pixel_pass stores
identities), image header facts (imageinfo), JPEG identity without a decode, and grid
thumbnails. It may import `base`; the ingest pass also uses duplicates' pHash and semantic's
image preparation and vectors (declared in pyproject.toml).
"""
