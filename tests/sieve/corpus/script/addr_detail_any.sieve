require ["fileinto", "subaddress"];
if address :detail :matches "to" "*" { fileinto "Detailed"; }
