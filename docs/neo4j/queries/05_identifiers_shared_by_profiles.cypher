// Identifiers observed with members of many profiles (shared IPs, family devices,
// placeholder values typed at a till): candidates for quarantine.
MATCH (x:Identifier)-[:OBSERVED_WITH]-(:Identifier)-[:BELONGS_TO]->(p:Profile)
WITH x, count(DISTINCT p) AS profiles
WHERE profiles > 1
RETURN x.type AS type, x.value AS value, profiles
ORDER BY profiles DESC
LIMIT 50
