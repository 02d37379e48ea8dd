// Relationships first, in small transactions: deleting a node with hundreds of thousands of them (a product,
// a branch) in one go makes Neo4j lock and sort them all at once, which took longer than the whole load.
MATCH ()-[tie]->()
CALL (tie) { DELETE tie } IN TRANSACTIONS OF 10000 ROWS
