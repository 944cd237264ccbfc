// Profiles left with no member after a rebuild.
MATCH (p:Profile)
WHERE NOT (p)<-[:BELONGS_TO]-(:Identifier)
DELETE p
RETURN count(*)
