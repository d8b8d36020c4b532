"""Who is calling: passwords, the server's session tokens, customer JWTs, principals."""
