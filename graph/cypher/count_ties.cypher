MATCH ()-[tie:__TYPE__]->()
RETURN count(tie) AS count
