// Profile of one identifier, with the weak evidence (IPs) seen with its members.
// :param type => 'email'   :param value => 'jane.doe@example.com'
MATCH (:Identifier {type: $type, value: $value})-[:BELONGS_TO]->(p:Profile)
MATCH (p)<-[b:BELONGS_TO]-(i:Identifier)
OPTIONAL MATCH (i)-[o:OBSERVED_WITH]-(w:Identifier {type: 'ip'})
RETURN p, b, i, o, w
LIMIT 300
