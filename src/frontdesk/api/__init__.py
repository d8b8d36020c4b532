"""Thin HTTP and WebSocket handlers: parse, call one action, serialise."""
