require ["body", "fileinto"];
if body :text :matches "*total is * EUR*" { fileinto "M"; }
