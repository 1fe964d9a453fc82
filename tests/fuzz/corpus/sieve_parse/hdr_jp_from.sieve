require ["fileinto"];
if header :contains "from" "田中" { fileinto "Tanaka"; }
