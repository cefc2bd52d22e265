"""Local stand-ins for the outside world, spoken to over real sockets on 127.0.0.1."""
