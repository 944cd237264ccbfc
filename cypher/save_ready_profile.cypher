// Keep a profile's document ready to serve, with the revision and generation read
// before it was built: a write since then has moved them on, and it is not served.
MATCH (p:Profile {profile_id: $profile_id})
SET p.ready_document = $document, p.ready_revision = $revision,
    p.ready_generation = $generation
RETURN count(p)
