require ["body", "fileinto"];
if body :raw :contains "Content-Type" { fileinto "Raw"; }
