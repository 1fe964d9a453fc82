require ["fileinto"];
if header :contains "list-id" "" { fileinto "HasList"; }
