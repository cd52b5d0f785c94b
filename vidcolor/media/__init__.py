"""Media I/O with PyAV and OpenCV: open, decode, encode, copy streams, write atomically."""
