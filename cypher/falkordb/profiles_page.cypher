// FalkorDB: the profiles whose internal node IDs are in ($low, $high], with their
// members, in profile ID order within the page. FalkorDB scans such a range by ID
// ("Node By Label and ID Scan"): the work follows the page. Paging by profile_id
// (cypher/profiles_page.cypher) made it scan every profile after the cursor for each
// page: O(n²) over an export (195 s for 343,892 profiles), and its string index
// scans are not reliable with an upper bound (docs/architecture.md).
MATCH (p:Profile)
WHERE id(p) > $low AND id(p) <= $high
OPTIONAL MATCH (i:Identifier)-[:BELONGS_TO]->(p)
WITH p, collect(i) AS members
RETURN p.profile_id, [m IN members | [m.type, m.value]]
ORDER BY p.profile_id
