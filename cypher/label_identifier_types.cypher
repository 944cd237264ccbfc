// Type labels on identifiers (:Email, :Phone, ...) so Neo4j Browser can colour them
// (GraSS styles by label only). Built-in types only; run by `resolve`, touching only
// identifiers that do not have their label yet. Each step ends in a count without a
// grouping key, which always yields one row, so an empty step never stops the next.
MATCH (i:Identifier {type: 'email'})
WHERE NOT i:Email
SET i:Email
WITH count(*) AS _
MATCH (i:Identifier {type: 'phone'})
WHERE NOT i:Phone
SET i:Phone
WITH count(*) AS _
MATCH (i:Identifier {type: 'user_id'})
WHERE NOT i:UserId
SET i:UserId
WITH count(*) AS _
MATCH (i:Identifier {type: 'loyalty_id'})
WHERE NOT i:LoyaltyId
SET i:LoyaltyId
WITH count(*) AS _
MATCH (i:Identifier {type: 'device_id'})
WHERE NOT i:DeviceId
SET i:DeviceId
WITH count(*) AS _
MATCH (i:Identifier {type: 'cookie_id'})
WHERE NOT i:CookieId
SET i:CookieId
WITH count(*) AS _
MATCH (i:Identifier {type: 'anonymous_id'})
WHERE NOT i:AnonymousId
SET i:AnonymousId
WITH count(*) AS _
MATCH (i:Identifier {type: 'ip'})
WHERE NOT i:Ip
SET i:Ip
WITH count(*) AS _
RETURN 0 AS done
