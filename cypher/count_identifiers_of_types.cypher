// How many identifiers of the given types there are (whether `idgraph train` reads
// the whole graph or a sample of it: graph/store/samples.py).
MATCH (i:Identifier)
WHERE i.type IN $types
RETURN count(i)
