require ["fileinto"];
if address :localpart :is "to" "suzuki" { fileinto "Suzuki"; }
