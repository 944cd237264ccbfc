// The household a shared device (in no profile) belongs to, if any.
MATCH (i:Identifier {type: $type, value: $value})
RETURN i.household_id
