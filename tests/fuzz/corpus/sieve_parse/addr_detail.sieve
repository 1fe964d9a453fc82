require ["fileinto", "subaddress"];
if address :detail :is "to" "lists" { fileinto "Lists"; }
