require ["fileinto"];
if allof (header :contains "from" "example", not exists "list-id") { fileinto "Direct"; }
