require ["fileinto"];
if address :all :contains "from" "EXAMPLE.ORG" { fileinto "Org"; }
