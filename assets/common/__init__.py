"""Building blocks shared by every source: warehouse access, SQL files, contracts, raw loading."""
