"""The catalogue: what files a library holds and what they are. The walk, the scan passes (the
record pass reads headers and content hashes, the pixel pass computes pixel identity), image
header facts (imageinfo) and grid thumbnails. It may import `base` only.
"""
