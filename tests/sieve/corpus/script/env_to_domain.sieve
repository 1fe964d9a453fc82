require ["fileinto", "envelope"];
if envelope :domain :is "to" "example.com" { fileinto "Local"; }
