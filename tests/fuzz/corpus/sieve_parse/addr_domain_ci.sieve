require ["fileinto"];
if address :domain :is "cc" "example.com" { fileinto "Cc"; }
