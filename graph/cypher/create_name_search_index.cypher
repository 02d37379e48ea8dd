// Customer search finds names containing a text; a text index answers CONTAINS without a scan of every customer.
CREATE TEXT INDEX Customer_name_text IF NOT EXISTS
FOR (n:Customer) ON (n.name)
