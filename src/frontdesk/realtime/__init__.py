"""Realtime: typed events, the broker that carries them, the hub that fans them out."""
