// Customer search finds masked phones ending with four digits; a text index answers ENDS WITH without a scan.
CREATE TEXT INDEX Customer_phone_masked_text IF NOT EXISTS
FOR (n:Customer) ON (n.phone_masked)
