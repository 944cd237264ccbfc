// FalkorDB: the lowest and highest internal node IDs of profiles, and how many there
// are (how graph.store.falkordb_store pages profiles by ranges of IDs).
MATCH (p:Profile)
RETURN min(id(p)), max(id(p)), count(p)
