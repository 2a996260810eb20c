"""Bulk export: rendered versions written as JPEG/PNG/TIFF with ICC and metadata.

naming.py (safe output names), writers.py (pixels + ICC), metadata.py (EXIF/IPTC/XMP),
sharpen.py (output sharpening), job.py (the batch: planning, workers, conflicts, presets).
"""
