require ["body", "fileinto"];
if body :text :contains "order" { fileinto "Order"; }
