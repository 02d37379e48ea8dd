// The catalogue name of each listed product that exists, by id.
MATCH (product:Product)
WHERE product.id IN $product_ids
RETURN product.id AS product_id, product.name AS name
ORDER BY product_id
