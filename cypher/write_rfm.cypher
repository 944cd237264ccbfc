// Keep RFM scores on profiles, stamped with the run that computed them.
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
SET p.rfm_r = r.r, p.rfm_f = r.f, p.rfm_m = r.m, p.rfm_score = r.score,
    p.rfm_group = r.group, p.rfm_recency_days = r.recency_days,
    p.rfm_frequency = r.frequency, p.rfm_monetary = r.monetary,
    p.rfm_as_of = $as_of, p.rfm_at = $now, p.rfm_run = $run
RETURN count(p)
