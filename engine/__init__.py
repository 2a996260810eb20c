"""The engine: decoding, import, develop pipeline, masks, sync and export."""
