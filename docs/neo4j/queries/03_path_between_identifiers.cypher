// Why are two identifiers connected? The shortest chain of observations between them.
// :param a_type => 'email'  :param a_value => '...'  :param b_type => 'phone'  :param b_value => '+1...'
MATCH (a:Identifier {type: $a_type, value: $a_value})
MATCH (b:Identifier {type: $b_type, value: $b_value})
MATCH path = shortestPath((a)-[:OBSERVED_WITH*..12]-(b))
RETURN path
