// Interactions with the manager's customers whose follow-up date is before $today and that have no outcome,
// whoever logged them; logged_by is the smallest id of the managers who logged the interaction.
MATCH (:Manager {id: $manager_id})-[:MANAGES]->(customer:Customer)<-[:WITH]-(interaction:Interaction)
WHERE interaction.due IS NOT NULL AND interaction.due < $today AND interaction.outcome IS NULL
OPTIONAL MATCH (interaction)-[:LOGGED_BY]->(logger:Manager)
WITH interaction, customer, min(logger.id) AS logged_by
RETURN interaction.id AS interaction_id, customer.id AS customer_id, customer.name AS customer_name,
       interaction.channel AS channel, interaction.summary AS summary, interaction.at AS at,
       interaction.due AS due, logged_by
ORDER BY due, interaction_id, customer_id
