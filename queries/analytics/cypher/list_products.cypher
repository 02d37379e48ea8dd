// The product catalogue: names, eligibility rules, and the co-holding statistics and fitted cross-sell tie
// weights crm-graph analyze wrote.
MATCH (product:Product)
RETURN product.id AS product_id, product.name AS name, product.category AS category, product.min_age AS min_age,
       product.segments AS segments, product.exclusive_with AS exclusive_with,
       product.holders AS holders, product.holder_share AS holder_share,
       product.co_held_products AS co_held_products, product.co_held_counts AS co_held_counts,
       product.cross_sell_tie_types AS cross_sell_tie_types, product.cross_sell_tie_weights AS cross_sell_tie_weights
ORDER BY product_id
