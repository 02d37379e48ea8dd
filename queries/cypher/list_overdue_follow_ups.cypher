// Follow-ups promised to the manager's customers that are due before $today and still open, whoever logged them.
// A follow-up is an interaction with a due date whose outcome is unknown or $follow_up_outcome; a later contact
// that reached the customer (any outcome but $unreached_outcome) keeps it. A customer who has left is owed none.
// logged_by is the smallest id of the managers who logged the interaction.
MATCH (:Manager {id: $manager_id})-[:MANAGES]->(customer:Customer)<-[:WITH]-(interaction:Interaction)
WHERE interaction.due IS NOT NULL AND interaction.due < $today
  AND coalesce(interaction.outcome, $follow_up_outcome) = $follow_up_outcome
  AND coalesce(customer.status, '') <> $churned AND coalesce(customer.lifecycle_stage, '') <> $churned
  AND NOT EXISTS {
    MATCH (customer)<-[:WITH]-(later:Interaction)
    WHERE later.at > interaction.at AND coalesce(later.outcome, '') <> $unreached_outcome
  }
OPTIONAL MATCH (interaction)-[:LOGGED_BY]->(logger:Manager)
WITH interaction, customer, min(logger.id) AS logged_by
RETURN interaction.id AS interaction_id, customer.id AS customer_id, customer.name AS customer_name,
       interaction.channel AS channel, interaction.summary AS summary, interaction.at AS at,
       interaction.due AS due, logged_by
ORDER BY due, interaction_id, customer_id
