require ["body", "fileinto"];
if body :contains "invoice" { fileinto "Invoice"; }
