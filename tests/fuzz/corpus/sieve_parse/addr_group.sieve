require ["fileinto"];
if address :is "to" "j.smith@example.com" { fileinto "Group"; }
