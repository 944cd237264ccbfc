// Node counts by label (OPTIONAL MATCH: a label with no node counts 0 instead of
// ending the query).
OPTIONAL MATCH (i:Identifier)
WITH count(i) AS identifiers
OPTIONAL MATCH (e:Event)
WITH identifiers, count(e) AS events
OPTIONAL MATCH (p:Profile)
RETURN identifiers, events, count(p) AS profiles
