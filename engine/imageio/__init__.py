"""Reading photos: fast decoding for thumbnails/previews, metadata, the preview cache."""
