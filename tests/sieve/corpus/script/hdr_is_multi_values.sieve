require ["fileinto"];
if header :contains "received" "mx1.example.org by mx.example.com" { fileinto "Hop1"; }
