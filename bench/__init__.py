"""Benchmarks: `python -m bench` runs the harness (see __main__); modules such as
``ws_delivery`` also run alone and expose ``run(quick: bool = False)``."""
