require ["body", "fileinto"];
if body :content "text" :contains "total" { fileinto "T"; }
