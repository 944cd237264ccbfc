// The member count of profiles whose members a plan changed (rows: profile_id, size),
// as the plan counted them: its clusters hold every member of their profiles, so
// nothing is counted in the store (update_profile_sizes recounts where no plan did).
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
SET p.size = r.size
RETURN count(p)
