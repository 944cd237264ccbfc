// Cheapest round trip through a database (health checks).
RETURN 1 AS ok
