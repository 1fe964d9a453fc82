require ["index", "fileinto"];
if header :index 2 :contains "received" "client" { fileinto "Second"; }
