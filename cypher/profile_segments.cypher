// Which of several segment conditions one profile meets (one boolean per segment,
// composed in by graph.segments as a list).
MATCH (p:Profile {profile_id: $profile_id})
RETURN [true /* condition */]
