require ["relational", "fileinto"];
if header :count "lt" "received" "10" { fileinto "Lt"; }
