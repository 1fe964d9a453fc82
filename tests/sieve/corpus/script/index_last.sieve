require ["index", "fileinto"];
if header :index 1 :last :contains "received" "mx1" { fileinto "LastHop"; }
