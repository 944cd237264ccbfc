// Remove everything (tests and demo reset).
MATCH (n)
DETACH DELETE n
