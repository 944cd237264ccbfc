// How many active profiles have each size (members), for the profile-size histogram.
MATCH (p:Profile)
WHERE p.status IS NULL
RETURN coalesce(p.size, 0) AS size, count(p) AS profiles
ORDER BY size
