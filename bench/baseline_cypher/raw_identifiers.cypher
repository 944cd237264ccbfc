// Baseline: the store's own UNWIND … MERGE on the same identifier nodes.
UNWIND $rows AS r
MERGE (:Identifier {type: r.type, value: r.value})
