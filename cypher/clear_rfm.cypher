// Remove RFM scores not written by the given run (profiles without purchases now).
MATCH (p:Profile)
WHERE p.rfm_run IS NOT NULL AND p.rfm_run <> $run
SET p.rfm_r = null, p.rfm_f = null, p.rfm_m = null, p.rfm_score = null,
    p.rfm_group = null, p.rfm_recency_days = null, p.rfm_frequency = null,
    p.rfm_monetary = null, p.rfm_as_of = null, p.rfm_at = null, p.rfm_run = null
RETURN count(p)
