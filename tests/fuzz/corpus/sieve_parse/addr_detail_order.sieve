require ["fileinto", "subaddress"];
if address :detail :is "to" "order" { fileinto "Orders"; }
