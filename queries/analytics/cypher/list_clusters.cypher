// The largest referral clusters as crm-graph analyze last summarised them: rank 1 is the largest; the $limit
// after the first $skip.
MATCH (cluster:Cluster)
WHERE $skip < cluster.rank <= $skip + $limit
RETURN cluster.id AS cluster_id, cluster.size AS size, cluster.total_aum AS total_aum,
       cluster.central_members AS central_members, cluster.penetration_products AS penetration_products,
       cluster.penetration_shares AS penetration_shares, cluster.referrals_per_member AS referrals_per_member,
       cluster.referred_active_share AS referred_active_share
ORDER BY cluster.rank
