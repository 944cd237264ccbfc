// Forget every refused link (a full resolve records them anew).
MATCH (:Identifier)-[r:REFUSED]->(:Identifier)
DELETE r
RETURN count(*)
