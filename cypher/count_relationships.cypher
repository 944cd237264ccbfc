// Relationship counts by type.
MATCH ()-[r]->()
RETURN type(r), count(r)
