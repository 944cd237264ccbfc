// Erase events (and their SEEN_IN relationships). The profiles they were in count it
// as a change of members (see assign_profiles): their facts are computed again, not
// added to.
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
OPTIONAL MATCH (e)<-[:SEEN_IN]-(:Identifier)-[:BELONGS_TO]->(p:Profile)
SET p.members_version = coalesce(p.members_version, 0) + 1
WITH DISTINCT e
DETACH DELETE e
RETURN count(*)
