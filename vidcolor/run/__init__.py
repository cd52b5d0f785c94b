"""One span of a film through the network and the stages after it (``film``, ``frame_stages``), and
the network it uses (``colorizer``)."""
