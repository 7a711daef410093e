"""The thumbnail grid: the widget, its cells, the paging/loading of thumbnails, half-cell strips."""
