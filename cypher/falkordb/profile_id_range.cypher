// FalkorDB: the lowest and highest internal node IDs of profiles, and how many there
// are (how graph.store.runner.StoreRunner._pages reads profiles by ranges of IDs).
MATCH (p:Profile)
RETURN min(id(p)), max(id(p)), count(p)
