// The profile each of the given identifiers belongs to (keys as [type, value]); an
// identifier in none has no row. (members_of_profiles_of also reads every fellow
// member: what a re-plan's scope needs, not whether an identifier is in a profile.)
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})-[:BELONGS_TO]->(p)
RETURN i.type, i.value, p.profile_id
