require ["fileinto"];
if address :localpart :is "cc" "quoted local" { fileinto "QL"; }
