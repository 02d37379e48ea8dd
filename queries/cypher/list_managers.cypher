// Managers (all, or the one with id $manager_id) with their branch (smallest id) and book size.
MATCH (manager:Manager)
WHERE $manager_id IS NULL OR manager.id = $manager_id
OPTIONAL MATCH (manager)-[:WORKS_AT]->(branch:Branch)
WITH manager, branch ORDER BY branch.id
WITH manager, head(collect(branch)) AS branch
OPTIONAL MATCH (manager)-[:MANAGES]->(customer:Customer)
RETURN manager.id AS manager_id, manager.name AS name, manager.employee_no AS employee_no,
       branch.id AS branch_id, branch.name AS branch_name, count(customer) AS book_size
ORDER BY manager_id
