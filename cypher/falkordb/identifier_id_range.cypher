// FalkorDB: the lowest and highest internal node IDs of identifiers, and how many
// there are (how graph.store.observations reads weak observations by ranges of IDs).
MATCH (i:Identifier)
RETURN min(id(i)), max(id(i)), count(i)
