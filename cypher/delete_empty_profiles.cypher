// Active profiles left with no member (all their identifiers erased).
MATCH (p:Profile)
WHERE p.status IS NULL AND NOT (p)<-[:BELONGS_TO]-(:Identifier)
DETACH DELETE p
RETURN count(*)
