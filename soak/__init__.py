"""A bounded soak run of frontdesk: mixed traffic against a real server process on loopback,
with the server's memory and open file descriptors sampled. ``make soak`` runs it."""
