"""Series: frames shot together (bursts, brackets, a sitting) grouped for sync."""
