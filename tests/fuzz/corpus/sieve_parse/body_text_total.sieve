require ["body", "fileinto"];
if body :text :contains "total" { fileinto "Total"; }
