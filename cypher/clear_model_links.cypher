// Forget every model link (a resolve with a model records the accepted ones anew).
MATCH (:Identifier)-[m:MODEL_LINK]->(:Identifier)
DELETE m
RETURN count(*)
